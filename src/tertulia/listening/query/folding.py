"""Case and accent folding, and the words of a post: the same for queries and for the text.

"Café", "CAFÉ", "cafe" and "cafe" in "mathematical bold" letters are one word to a listening
query: people write Spanish with and without accents, and some write in "mathematical bold" to
dodge filters. Folding is NFKC (compatibility forms become plain letters), invisible characters
removed, casefold, then Latin diacritics removed ("ñ" becomes "n" too: "espana" is how many people
type "España"; the price is that "año" also finds "ano"). Other scripts keep their marks.

Everything here is a C-level string method or one regular expression, and a batch of posts is
folded as one string (`fold_many`): the matcher folds every post of a firehose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from tertulia.nlp.normalize import COMBINING_MARKS, INVISIBLE, unaccent

# A post is matched on its first 100,000 characters: whole blog articles from feeds fit, and a
# hostile megabyte costs no more than that.
MAX_TEXT = 100_000
# A word longer than this is cut to it before wildcards are tried on it: no real word is, and a
# wildcard's cost grows with the length of the words it is tried on.
MAX_WORD = 100

# A word: letters or digits of any script, with the marks some scripts write inside words.
WORD = re.compile(rf"[\w{COMBINING_MARKS}]+")
HASHTAG = re.compile(rf"#([\w{COMBINING_MARKS}]+)")
# Handles have dots and hyphens inside (Bluesky's alice.bsky.social); a trailing one is punctuation.
MENTION = re.compile(rf"@([\w{COMBINING_MARKS}](?:[\w.{COMBINING_MARKS}-]*[\w{COMBINING_MARKS}])?)")

_SEPARATOR = "\x1e"  # ASCII record separator: never in folded text (it is removed from posts)


# Lone surrogates (from JSON "\ud800") cannot be encoded: they become U+FFFD, which is not a letter.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _after_nfkc(text: str) -> str:
    """Invisible characters out, casefold, Latin accents out. casefold turns "İ" into "i" plus a
    combining dot above, which no precomposed letter absorbs: it goes too, so İstanbul is istanbul."""
    folded = INVISIBLE.sub("", text).casefold()
    if "\u0307" in folded:
        folded = folded.replace("\u0307", "")
    return unaccent(folded)


def fold(text: str) -> str:
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    return _after_nfkc(unicodedata.normalize("NFKC", text))


def fold_many(texts: Sequence[str]) -> list[str]:
    """`fold` of each text, in as few C calls as possible: the matcher folds every post of a firehose.

    ASCII text only needs lower-casing: NFKC leaves it as it is, it has no invisible characters
    or accents, and casefold is lower() on ASCII (`isascii` is a flag CPython keeps, no scan). The
    rest is normalised post by post (NFKC's quick check passes most posts untouched, where one
    mark anywhere in a joined batch would send the whole batch through the slow path), then
    stripped, casefolded and unaccented as one joined string.
    """
    folded: list[str] = []
    others: list[int] = []
    for number, text in enumerate(texts):
        if text.isascii():
            folded.append(text[:MAX_TEXT].lower().replace(_SEPARATOR, " "))
        else:
            folded.append("")
            others.append(number)
    if others:
        normalize = unicodedata.normalize
        joined = _SEPARATOR.join(
            normalize("NFKC", _SURROGATE.sub("\ufffd", texts[number][:MAX_TEXT].replace(_SEPARATOR, " ")))
            for number in others
        )
        # Each step maps characters one by one (NFKC never makes a record separator), so the
        # joined string splits back into the posts' folded texts.
        cleaned = _after_nfkc(joined).split(_SEPARATOR)
        for number, text in zip(others, cleaned, strict=True):
            folded[number] = text
    return folded


def words(folded: str) -> list[str]:
    return [word[:MAX_WORD] for word in WORD.findall(folded)]
