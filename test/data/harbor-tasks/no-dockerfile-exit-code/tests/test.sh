#!/bin/bash
set -e
cd /app
python3 -m unittest discover -s /tests -t /tests -p "test_*.py"
