#!/bin/bash
set -eu
sed -i 's/return re.sub(r"\[^a-z0-9\]+", "-", title.lower())/return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")/' /app/slug.py
grep -q 'strip("-")' /app/slug.py
