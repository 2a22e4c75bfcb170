"""X's weighted text length: what "280 characters" means on X.

X does not count code points. It follows the `twitter-text` library's
configuration v3 (https://github.com/twitter/twitter-text, `config/v3.json`):

- the text is NFC-normalised first, so "é" typed as e + combining accent is one character;
- each code point weighs 200 (counts 2), except those in the light ranges below, which weigh
  100 (count 1): Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari... (U+0000-U+10FF) and some
  general punctuation (spaces, dashes, quotes, primes). CJK, Hangul, symbols and everything outside
  the Basic Multilingual Plane count 2;
- every URL counts 23 (`transformedURLLength`), however long, because X rewrites it to t.co;
- every emoji counts 2, including whole sequences: a family joined with ZWJ, a flag (two regional
  indicators), a keycap, a skin-tone modifier or a variation selector do not add to it;
- the limit is `maxWeightedTweetLength` 280, compared after dividing by the scale (100).

Approximations, documented in docs/connectors/x.md:

- URLs: twitter-text validates hosts against the full IANA TLD list. Here a URL is either
  `http(s)://` followed by non-space characters, or a bare host whose TLD is a common generic TLD, or
  a country-code TLD followed by a path (twitter-text only links bare ccTLD hosts with a path too).
  Trailing sentence punctuation is not part of the URL.
- Emoji: twitter-text uses the twemoji regular expression. Here an emoji is a code point of the
  Unicode emoji blocks (Extended_Pictographic ranges, approximated by block) with its modifiers, ZWJ
  continuations, tags and variation selector; plus flags and keycaps. A text-style symbol such as
  "©" without U+FE0F counts as a plain character, as in twitter-text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
URL_LENGTH = 23
# (first, last, weight): config v3's light ranges.
LIGHT_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x0000, 0x10FF, 100),
    (0x2000, 0x200D, 100),
    (0x2010, 0x201F, 100),
    (0x2032, 0x2037, 100),
)
# twitter-text refuses text containing these (byte-order marks, non-characters, bidi overrides).
INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff\u202a\u202b\u202c\u202d\u202e")

_GENERIC_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|name|pro|mobi|app|dev|io|ai|co|me|tv|xyz|online|site|shop|"
    "store|blog|news|tech|cloud|page|link|live|social|media|agency|digital|world|today|travel|club"
)
_TRAILING = ".,;:!?'\")]}>…"
_URL = re.compile(
    r"(?:(?<![\w@.])https?://[^\s<>\"]+)"  # with a scheme: anything up to a space
    r"|(?:(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:" + _GENERIC_TLDS + r")\b(?:/[^\s<>\"]*)?)"
    r"|(?:(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2}/[^\s<>\"]*)",
    re.IGNORECASE,
)

ZWJ = 0x200D
VS16 = 0xFE0F
KEYCAP = 0x20E3


def _is_regional_indicator(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _is_skin_tone(cp: int) -> bool:
    return 0x1F3FB <= cp <= 0x1F3FF


def _is_tag(cp: int) -> bool:
    return 0xE0020 <= cp <= 0xE007F


def _is_pictographic(cp: int) -> bool:
    """Emoji that are emoji by default (no U+FE0F needed): the astral emoji blocks and the common BMP ones."""
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF  # miscellaneous symbols, dingbats
        or 0x2B05 <= cp <= 0x2B55  # arrows, stars, circles
        or cp in (0x231A, 0x231B, 0x23E9, 0x23EA, 0x23EB, 0x23EC, 0x23F0, 0x23F3, 0x3030, 0x303D, 0x3297)
        or cp == 0x3299
    )


def _emoji_length(cps: list[int], i: int) -> int:
    """How many code points from `i` form one emoji (0 if none starts there)."""
    cp = cps[i]
    n = len(cps)
    # A flag: two regional indicators.
    if _is_regional_indicator(cp):
        return 2 if i + 1 < n and _is_regional_indicator(cps[i + 1]) else 1
    # A keycap: 0-9, # or * with an optional U+FE0F and U+20E3.
    if chr(cp) in "0123456789#*":
        j = i + 1
        if j < n and cps[j] == VS16:
            j += 1
        return j + 1 - i if j < n and cps[j] == KEYCAP else 0
    # A text-style symbol becomes an emoji with U+FE0F.
    if not _is_pictographic(cp) and not (i + 1 < n and cps[i + 1] == VS16 and cp > 0x7F):
        return 0
    j = i + 1
    while True:
        while j < n and (cps[j] == VS16 or _is_skin_tone(cps[j]) or _is_tag(cps[j]) or cps[j] == KEYCAP):
            j += 1
        # A ZWJ sequence goes on with another pictograph (family, profession, rainbow flag...).
        if j + 1 < n and cps[j] == ZWJ and (_is_pictographic(cps[j + 1]) or cps[j + 1] > 0x7F):
            j += 2
            continue
        return j - i


def _char_weight(cp: int) -> int:
    for first, last, weight in LIGHT_RANGES:
        if first <= cp <= last:
            return weight
    return DEFAULT_WEIGHT


def _url_spans(text: str) -> dict[int, int]:
    """Start offset → end offset of each URL, without trailing punctuation."""
    spans: dict[int, int] = {}
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        if end > start:
            spans[start] = end
    return spans


@dataclass(frozen=True)
class ParsedText:
    weighted_length: int  # in characters, as X shows them (already divided by the scale)
    valid: bool  # within the limit and free of invalid characters
    has_invalid_characters: bool


def parse_text(text: str) -> ParsedText:
    """Measure `text` as X does before accepting a post."""
    normalized = unicodedata.normalize("NFC", text)
    urls = _url_spans(normalized)
    cps = [ord(c) for c in normalized]
    weighted = 0
    i = 0
    while i < len(cps):
        if i in urls:
            weighted += URL_LENGTH * SCALE
            i = urls[i]
            continue
        emoji = _emoji_length(cps, i)
        if emoji:
            weighted += DEFAULT_WEIGHT
            i += emoji
            continue
        weighted += _char_weight(cps[i])
        i += 1
    # Round up: X refuses a post once it is over the limit by any fraction.
    length = -(-weighted // SCALE)
    invalid = any(c in INVALID_CHARACTERS for c in normalized)
    return ParsedText(
        weighted_length=length,
        valid=not invalid and 0 < length <= MAX_WEIGHTED_LENGTH,
        has_invalid_characters=invalid,
    )


def weighted_length(text: str) -> int:
    return parse_text(text).weighted_length
