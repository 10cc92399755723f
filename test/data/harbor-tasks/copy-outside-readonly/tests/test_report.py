import os

from report import total


def test_discount_applied():
    assert total({"pen": 2}) == 270


def test_no_discount():
    assert total({"ink": 1}) == 400


def test_shared_table_is_read_only():
    assert not os.access("/opt/shop/prices.json", os.W_OK)
