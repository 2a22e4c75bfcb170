"""Bluesky's text rules: length in graphemes, rich-text facets in UTF-8 byte offsets.

A post's `text` may hold at most 300 graphemes (what a person sees as one character:
"👩‍👩‍👧" or "é" written as e + combining accent count once). Links, mentions and
hashtags are not markup in the text but *facets* beside it, each addressing a slice of
the text by UTF-8 byte offsets, not by character index — so "¿Qué tal @ana.test?" puts
the mention at bytes 11..20, not characters 9..18.

Facet detection is the `atproto` SDK's port of the official TypeScript detector (links,
#hashtags, $cashtags, @mentions); only the grapheme count is ours, because Python's
standard library has no UAX #29 segmentation and the `regex` module (whose `\\X` does it)
is not a dependency.
"""

from __future__ import annotations

import unicodedata

# Code points that never start a grapheme of their own: they extend the one before.
_ZERO_WIDTH_JOINER = 0x200D
_EXTENDERS = (
    (0x1F3FB, 0x1F3FF),  # emoji skin-tone modifiers
    (0xFE00, 0xFE0F),  # variation selectors (text / emoji presentation)
    (0xE0020, 0xE007F),  # tag characters (subdivision flags such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿)
    (0xE0100, 0xE01EF),  # variation selectors supplement
    (0x200C, 0x200C),  # zero-width non-joiner (joins nothing, extends the previous cluster)
    (0x1160, 0x11FF),  # Hangul jamo vowels and trailing consonants after a leading one
)
_REGIONAL_INDICATORS = (0x1F1E6, 0x1F1FF)  # two of them make one flag


def _extends(char: str) -> bool:
    code = ord(char)
    if unicodedata.category(char) in {"Mn", "Mc", "Me"}:
        return True
    return any(low <= code <= high for low, high in _EXTENDERS)


def grapheme_count(text: str) -> int:
    """How many graphemes Bluesky counts in `text`.

    An approximation of Unicode's extended grapheme clusters (UAX #29) that covers what
    posts contain: combining marks (accents, Indic vowel signs), emoji with skin tones,
    variation selectors and ZWJ sequences, flags (regional-indicator pairs and tag
    sequences), CR LF, and conjoining Hangul jamo. It never counts more graphemes than a
    full implementation would on these inputs, so a post we accept is not refused by the
    server for its length; rarer cases (prepend characters, Indic conjuncts joined by a
    virama) may count one more than the server, which errs on the side of refusing here.
    """
    count = 0
    previous = ""
    after_joiner = False
    open_flag = False  # an odd regional indicator is waiting for its pair
    for char in text:
        code = ord(char)
        if after_joiner:
            # The character after a ZWJ joins the cluster (👩 + ZWJ + 👩 + ZWJ + 👧 is one).
            after_joiner = False
            previous = char
            continue
        if code == _ZERO_WIDTH_JOINER:
            after_joiner = bool(previous)
            if not previous:
                count += 1
            previous = char
            continue
        if previous == "\r" and char == "\n":
            previous = char
            continue
        if previous and _extends(char):
            previous = char
            continue
        if _REGIONAL_INDICATORS[0] <= code <= _REGIONAL_INDICATORS[1]:
            if open_flag:
                open_flag = False
                previous = char
                continue
            open_flag = True
        else:
            open_flag = False
        count += 1
        previous = char
    return count


def utf8_offset(text: str, index: int) -> int:
    """The UTF-8 byte offset of the character at `index` (a Python str index)."""
    return len(text[:index].encode("utf-8"))


def byte_slice(text: str, start: int, end: int) -> str:
    """The text a facet's byte range covers (for checks and for reading inbound facets)."""
    return text.encode("utf-8")[start:end].decode("utf-8", errors="replace")
