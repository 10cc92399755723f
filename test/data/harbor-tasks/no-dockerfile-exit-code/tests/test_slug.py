import unittest

from slug import slug


class SlugTest(unittest.TestCase):
    def test_trims(self):
        self.assertEqual(slug("  Hello, World! "), "hello-world")

    def test_inner(self):
        self.assertEqual(slug("a  b"), "a-b")
