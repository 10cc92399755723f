#!/bin/bash
set -eu
cat > billing/invoice.py <<'PY'
from decimal import ROUND_HALF_UP, Decimal


def total_cents(lines):
    subtotal = sum(q * p for q, p in lines)
    return int((Decimal(subtotal) * Decimal("1.075")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
PY
