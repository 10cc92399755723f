from conf.loader import load


def test_empty_value_kept():
    assert load("/app/sample.env") == {"NAME": "", "MODE": "fast"}
