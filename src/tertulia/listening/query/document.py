"""A post as the query language sees it: its folded words in order, and its fields.

Tokens keep their order (for phrases and NEAR) and their kind: a hashtag (#vino), a mention
(@bodega.bsky.social, one token however many dots) or a plain word. A plain word in a query finds
any of the three by its text ("vino" finds "#vino" and "@vino"); #vino and @vino find only their kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import urlsplit

from tertulia.listening.query.folding import MAX_WORD, fold
from tertulia.nlp.normalize import COMBINING_MARKS

_W = rf"[\w{COMBINING_MARKS}]"
# A mention's @ must not follow a letter (an email address is not a mention).
TOKEN = re.compile(rf"(?<![\w@])@({_W}(?:[\w.{COMBINING_MARKS}-]*{_W})?)|#({_W}+)|({_W}+)")


class TokenKind(IntEnum):
    WORD = 0
    HASHTAG = 1
    MENTION = 2


@dataclass(frozen=True, slots=True)
class Post:
    """One post to match, as `tertulia query match` reads it (JSON lines) and sources deliver it."""

    id: str
    text: str
    author: str = ""
    lang: str = ""
    url: str = ""
    network: str = ""
    followers: int | None = None
    channel: str = ""


@dataclass(frozen=True, slots=True)
class Prepared:
    tokens: tuple[tuple[str, TokenKind], ...]
    author: str
    lang: str
    host: str
    network: str
    channel: str
    followers: int | None


def tokens_of(folded: str) -> tuple[tuple[str, TokenKind], ...]:
    found: list[tuple[str, TokenKind]] = []
    for mention, hashtag, word in TOKEN.findall(folded):
        if word:
            found.append((word[:MAX_WORD], TokenKind.WORD))
        elif hashtag:
            found.append((hashtag[:MAX_WORD], TokenKind.HASHTAG))
        else:
            found.append((mention[:MAX_WORD], TokenKind.MENTION))
    return tuple(found)


def prepare(post: Post, folded_text: str | None = None) -> Prepared:
    """`folded_text` when the caller folded a batch at once (`folding.fold_many`)."""
    return Prepared(
        tokens=tokens_of(fold(post.text) if folded_text is None else folded_text),
        author=fold(post.author.strip()).removeprefix("@"),
        lang=language_code(post.lang),
        host=host_of(post.url),
        network=post.network.strip().lower(),
        channel=fold(post.channel.strip()),
        followers=post.followers,
    )


def language_code(tag: str) -> str:
    """ "es-ES" → "es"; what lang: compares against."""
    return tag.strip().lower().replace("_", "-").split("-", 1)[0]


# The usual link, http(s)://name/...: its host is the name, as urlsplit would say, at a fraction of
# the cost. Anything else (a port, a user, brackets, other characters) goes through urlsplit.
_PLAIN_URL = re.compile(r"https?://([a-zA-Z0-9.-]*)(?:[/?#]|\Z)")


def host_of(url: str) -> str:
    url = url.strip()
    plain = _PLAIN_URL.match(url)
    if plain is not None:
        host = plain[1]
    else:
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            return ""
    return host.lower().removeprefix("www.")
