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


def fold(text: str) -> str:
    folded = INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    return unaccent(folded)


def fold_many(texts: Sequence[str]) -> list[str]:
    """`fold` of each text, done as one string: one C call per step instead of one per post."""
    if not texts:
        return []
    joined = _SEPARATOR.join(text[:MAX_TEXT].replace(_SEPARATOR, " ") for text in texts)
    return fold(joined).split(_SEPARATOR)


def words(folded: str) -> list[str]:
    return [word[:MAX_WORD] for word in WORD.findall(folded)]
