"""The backtracking-free wildcard test agrees with the regular expression that defines wildcards."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tertulia.listening.query.reference import pattern_regex
from tertulia.listening.query.wildcards import wildcard_test

patterns = (
    st.lists(st.sampled_from(["a", "b", "ab", "?", "*", "ba"]), min_size=1, max_size=7)
    .map("".join)
    .map(lambda text: text.replace("**", "*"))
)
words = st.text(alphabet="abc", max_size=12)


@settings(max_examples=3_000, deadline=None)
@given(patterns, words)
def test_agrees_with_the_regex(pattern: str, word: str):
    expected = pattern_regex(pattern).fullmatch(word) is not None
    assert wildcard_test(pattern)(word) is expected


def test_no_backtracking_on_long_words():
    test = wildcard_test("a*a*a*b")
    assert test("a" * 100) is False  # as a regex: about a million steps for this word alone
    assert test("a" * 99 + "b") is True
