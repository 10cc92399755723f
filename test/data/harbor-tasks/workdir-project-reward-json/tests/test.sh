#!/bin/bash
cd /workspace/billing
python -m pytest /tests/test_invoice.py -q > /logs/verifier/pytest.txt 2>&1
status=$?
cat /logs/verifier/pytest.txt
python - "$status" <<'PY'
import json, sys
ok = sys.argv[1] == "0"
json.dump({"reward": 1.0 if ok else 0.0, "exit_status": int(sys.argv[1])}, open("/logs/verifier/reward.json", "w"))
PY
exit 0
