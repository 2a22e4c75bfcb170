"""Wildcard words (`compet*`, `colo?r`) tested without backtracking.

As a regular expression, `a*b*c*d` backtracks: tried on a 100-letter word it can take a million
steps, and a post has thousands of words. A glob has a simpler structure: the parts between stars
are fixed-length (letters and `?`), so the first part must open the word, the last must close it,
and each middle part can be taken at its leftmost place after the one before (taking it later
never helps the parts after it). That is a few `str` searches per word. `reference.pattern_regex`
stays the definition; tests/test_wildcards.py holds this to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache


def _segment(text: str) -> re.Pattern[str]:
    return re.compile("".join("." if char == "?" else re.escape(char) for char in text), re.S)


@lru_cache(maxsize=4096)
def wildcard_test(text: str) -> Callable[[str], bool]:
    """A function telling whether a word fits the pattern `text` (`*` any run, `?` one character)."""
    segments = text.split("*")
    if len(segments) == 1:  # only `?`: a fixed length, nothing to backtrack
        whole = _segment(text).fullmatch
        return lambda word: whole(word) is not None
    first, *middle, last = segments
    first_match, last_match = _segment(first).match, _segment(last).match
    inner = [(_segment(part).search, len(part)) for part in middle if part]
    shortest = sum(len(part) for part in segments)

    def test(word: str) -> bool:
        if len(word) < shortest or first_match(word) is None:
            return False
        tail = len(word) - len(last)
        if last_match(word, tail) is None:
            return False
        position = len(first)
        for search, _ in inner:
            found = search(word, position, tail)
            if found is None:
                return False
            position = found.end()
        return position <= tail

    return test


def pattern_test(text: str, is_wildcard: bool) -> Callable[[str], bool]:
    if not is_wildcard:
        return text.__eq__
    return wildcard_test(text)
