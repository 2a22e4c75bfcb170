"""Hashtags, mentions and links in a post's text, with their spans for highlighting.

Spans are offsets into the Python string (code points), `text[start:end]`; Bluesky's UTF-8
byte offsets are the connector's business. Links come first: a `#` or `@` inside a URL
("https://a.es/#top", "https://mastodon.social/@ana") is part of the link, not an entity.

Links are http(s) URLs only. X's counting module also links bare domains ("tertulia.es"),
which is X's own rule for counting; here a link is what `add_utm` may tag and a person can
click everywhere, and its recognition keeps a closing parenthesis that belongs to the URL
("https://es.wikipedia.org/wiki/Tertulia_(reunión)"), which X's drops.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


class EntityKind(StrEnum):
    HASHTAG = "hashtag"
    MENTION = "mention"
    LINK = "link"


@dataclass(frozen=True)
class Entity:
    kind: EntityKind
    text: str  # as written, sigil included: "#café", "@ana@mastodon.social", "https://a.es/x"
    start: int
    end: int


# Characters that end a URL wherever they appear: spaces, markup delimiters, typographic quotes,
# and invisible format characters (a direction override inside a URL is a spoofing trick).
_URL_STOP = '\\s<>"«»“”\u2018\u2019\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff'
_URL = re.compile(r"(?<![\w@.])https?://[^" + _URL_STOP + r"]+", re.IGNORECASE)
# Sentence punctuation after a URL belongs to the sentence: "see https://a.es/x." keeps its dot.
_TRAILING = ".,;:!?'…)]}"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# @user, @user@domain (Mastodon) and @domain.handle (Bluesky: "@ana.bsky.social"). Not after a
# word character ("ana@example.com" is an address), a dot or a slash; never ends with a dot.
_MENTION = re.compile(
    r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
    r"(?:@" + _LABEL + r"(?:\." + _LABEL + r")+)?"
    r"(?!\w)"
)
# Where a hashtag may start: "#" or the fullwidth U+FF03 of CJK keyboards, not after a word
# character nor "&" ("&#39;" is an HTML entity).
_HASHTAG_START = re.compile(r"(?<![\w&])[#\uff03](?=\w)")
# Instagram's connector counts `(?<!\w)#\w+`: any # before a word character, digits and URLs included.
_CAPTION_HASHTAG_START = re.compile(r"(?<!\w)#(?=\w)")


def _trim(text: str, start: int, end: int) -> int:
    """The end of a URL without the sentence punctuation after it; a balanced ")" stays."""
    while end > start:
        last = text[end - 1]
        if last == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        if last not in _TRAILING:
            break
        end -= 1
    return end


def find_links(text: str) -> list[Entity]:
    links = []
    for match in _URL.finditer(text):
        start = match.start()
        end = _trim(text, start, match.end())
        url = text[start:end]
        try:
            host = urlsplit(url).netloc
        except ValueError:  # a malformed IPv6 host ("https://[x"): not a link anyone can follow
            continue
        if host:
            links.append(Entity(EntityKind.LINK, url, start, end))
    return links


def _inside(start: int, links: list[Entity]) -> bool:
    return any(link.start <= start < link.end for link in links)


def _word_end(text: str, index: int) -> int:
    """Where a hashtag's body ends: letters, digits, "_" and combining marks ("#cafe\u0301")."""
    while index < len(text):
        char = text[index]
        if char != "_" and unicodedata.category(char)[0] not in "LNM":
            break
        index += 1
    return index


def find_hashtags(text: str) -> list[Entity]:
    """#word: letters, digits, "_" and marks, with at least one letter ("#2024" is a number), not in a URL."""
    links = find_links(text)
    found = []
    for match in _HASHTAG_START.finditer(text):
        start = match.start()
        end = _word_end(text, start + 1)
        body = text[start + 1 : end]
        if _inside(start, links) or not any(unicodedata.category(c)[0] in "LM" for c in body):
            continue
        found.append(Entity(EntityKind.HASHTAG, text[start:end], start, end))
    return found


def find_caption_hashtags(text: str) -> list[Entity]:
    """Hashtags as Instagram's connector counts them for its 30-hashtag limit.

    Instagram shows captions as plain text (links are not clickable), so "#2024" and the
    "#top" of a pasted URL are hashtags to it; counting them the connector's way keeps
    compose-time and publish-time checks in agreement.
    """
    found = []
    for match in _CAPTION_HASHTAG_START.finditer(text):
        start, end = match.start(), _word_end(text, match.end())
        found.append(Entity(EntityKind.HASHTAG, text[start:end], start, end))
    return found


def find_mentions(text: str) -> list[Entity]:
    links = find_links(text)
    return [
        Entity(EntityKind.MENTION, m.group(), m.start(), m.end())
        for m in _MENTION.finditer(text)
        if not _inside(m.start(), links)
    ]


def find_entities(text: str) -> list[Entity]:
    """Links, hashtags and mentions in the order they appear."""
    return sorted(
        [*find_links(text), *find_hashtags(text), *find_mentions(text)], key=lambda entity: entity.start
    )
