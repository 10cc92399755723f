#!/bin/bash
# Writes both files: Harbor reads reward.json first, so reward.txt (always 1) never decides.
cd /app
echo 1 > /logs/verifier/reward.txt
if python3 -m pytest -q /tests/test_loader.py; then r=1; else r=0; fi
echo "{\"reward\": $r}" > /logs/verifier/reward.json
