from pathlib import Path

from wordcount import count_words


def test_tabs_and_newlines_separate_words():
    assert count_words("a\tb\nc") == 3


def test_empty_text():
    assert count_words("") == 0


def test_data_file():
    assert count_words(Path("/app/data.txt").read_text()) == 5
