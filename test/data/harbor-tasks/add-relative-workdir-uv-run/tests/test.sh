#!/bin/bash
set -u
cd /code/stats
uv run --with pytest pytest /tests/test_median.py --ctrf /logs/verifier/ctrf.json
status=$?
if [ $status -eq 0 ]; then echo 1.0 > /logs/verifier/reward.txt; else echo 0.0 > /logs/verifier/reward.txt; fi
exit 0
