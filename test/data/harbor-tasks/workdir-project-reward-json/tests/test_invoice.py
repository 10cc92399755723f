from billing.invoice import total_cents


def test_half_cent_rounds_up():
    assert total_cents([(2, 30)]) == 65


def test_below_half_rounds_down():
    assert total_cents([(1, 30)]) == 32


def test_exact():
    assert total_cents([(4, 100)]) == 430
