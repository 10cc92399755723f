#!/bin/bash
# Shell-only verifier: one point per check, the reward is the fraction passed.
passed=0
[ "$(greet Ann)" = "Good day, Ann." ] && passed=$((passed + 1))
[ "$(GREETING_STYLE=casual greet Bo)" = "Hi, Bo!" ] && passed=$((passed + 1))
echo "{\"reward\": $(echo "scale=2; $passed / 2" | bc), \"checks_passed\": $passed}" > /logs/verifier/reward.json
cat /logs/verifier/reward.json
exit 0
