def total_cents(lines):
    subtotal = sum(q * p for q, p in lines)
    return int(subtotal * 1.075)
