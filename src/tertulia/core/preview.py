"""A short preview of a long text for a notification: cut at a word where possible, never inside
what a person sees as one character (an emoji with a skin tone, a family joined by zero-width
joiners, a flag, a letter with a combining accent), and ended with an ellipsis.

The notification only points at the text; the whole of it stays where it was written (a hand-over
note on the On call page, a flag in the contributor portal). Python has no UAX #29 segmentation
and the `regex` module is not a dependency, so the cluster rules are the common ones: combining
marks, variation selectors, skin tones, tag characters, zero-width joiners, regional-indicator
pairs and CR LF.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
# A word boundary this far back from the cut at the most: a single very long "word" (a link) is cut
# inside rather than leaving a preview much shorter than it could be.
WORD_SLACK = 0.5

_ZERO_WIDTH_JOINER = "\u200d"
_EXTENDERS = (
    (0x1F3FB, 0x1F3FF),  # skin-tone modifiers
    (0xFE00, 0xFE0F),  # variation selectors
    (0xE0020, 0xE007F),  # tag characters (subdivision flags)
    (0xE0100, 0xE01EF),  # variation selectors supplement
    (0x200C, 0x200D),  # zero-width non-joiner and joiner
)
_REGIONAL = (0x1F1E6, 0x1F1FF)  # two make one flag


def _extends(char: str) -> bool:
    code = ord(char)
    return unicodedata.category(char) in {"Mn", "Mc", "Me"} or any(
        low <= code <= high for low, high in _EXTENDERS
    )


def boundaries(text: str) -> list[int]:
    """The indexes where a new grapheme cluster starts, and len(text)."""
    if not text:
        return [0]
    found = [0]
    open_flag = _regional(text[0])  # a regional indicator waiting for its partner
    for index in range(1, len(text)):
        char, previous = text[index], text[index - 1]
        if _regional(char) and open_flag:
            joins, open_flag = True, False
        else:
            joins = _extends(char) or previous == _ZERO_WIDTH_JOINER or (previous == "\r" and char == "\n")
            open_flag = _regional(char) and not joins
        if not joins:
            found.append(index)
    found.append(len(text))
    return found


def _regional(char: str) -> bool:
    return _REGIONAL[0] <= ord(char) <= _REGIONAL[1]


def preview(text: str, limit: int) -> str:
    """`text` with its whitespace folded to single spaces, at most `limit` characters: whole when it
    fits, else cut (at a word if one is near, at a cluster boundary always) and ended with "…"."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    room = limit - len(ELLIPSIS)
    starts = [b for b in boundaries(flat) if b <= room]
    cut = starts[-1] if starts else 0
    space = flat.rfind(" ", 0, cut + 1)
    if space > 0 and space >= cut * WORD_SLACK and space in set(starts):
        cut = space
    return flat[:cut].rstrip() + ELLIPSIS
