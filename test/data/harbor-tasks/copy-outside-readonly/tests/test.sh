#!/bin/bash
cd /app
pytest /tests/test_report.py --ctrf /logs/verifier/ctrf.json && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt
