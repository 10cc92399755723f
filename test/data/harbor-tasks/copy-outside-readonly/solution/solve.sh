#!/bin/bash
set -eu
cat > /app/report.py <<'PY'
import json


def total(order):
    prices = json.load(open("/opt/shop/prices.json"))
    discounts = json.load(open("/opt/shop/discounts.json"))
    return sum(prices[sku] * n * (100 - discounts.get(sku, 0)) // 100 for sku, n in order.items())
PY
