#!/bin/bash
cd /app
frobcheck input.txt && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt
