"""Turn a raw message into what the analysers read: one pass, done once per message.

Social text is hostile to naive matching: fullwidth or "mathematical bold" letters used to dodge
filters, zero-width and right-to-left marks pasted in, HTML from web forms, "muuuuy" and "soooo",
100 KB pastes and walls of emoji. Everything here is a C-level `str` method or one regular
expression over a capped prefix, because the analysis runs on every inbound message
(docs/nlp.md: at least 20,000 messages per second per core in batch).
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import NamedTuple

# Only this many characters of a message are analysed. Networks cap posts far lower (X: 280,
# Mastodon: 500, Facebook comments: 8,000); a pasted novel is judged by its opening, which is
# where people put what they want.
MAX_CHARS = 2_000


# Characters that change nothing a person reads but break matching: soft hyphen, combining
# grapheme joiner, Arabic letter mark, Mongolian vowel separator, zero-width space and joiners,
# left-to-right and right-to-left marks, bidi embeddings, overrides and isolates, invisible
# operators, variation selectors (emoji presentation), byte-order mark.
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]+"
)


def _unaccent() -> dict[str, str]:
    """Latin letters with diacritics → base letters ("intoxicación" → "intoxicacion", "ñ" → "n").

    People write Spanish with and without accents, so matching ignores them. Other scripts keep
    their marks: an Arabic or Devanagari word without its marks is a different word.
    """
    table: dict[str, str] = {}
    for codepoint in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        letter = chr(codepoint)
        stripped = "".join(c for c in unicodedata.normalize("NFD", letter) if not unicodedata.combining(c))
        if stripped and stripped != letter and stripped.isascii():
            table[letter] = stripped
    return table


_UNACCENT = _unaccent()
# Accented letters are few in a message: replacing each match beats translating every character.
_ACCENTED = re.compile("[" + "".join(sorted(_UNACCENT)) + "]")
_TAG = re.compile(r"<[^<>]{0,500}>")
_URL = re.compile(
    r"\b(?:https?://|www\.)\S+|\b[a-z0-9-]{2,63}\.(?:com|net|org|io|ly|me|link|xyz|club)/\S*", re.I
)
_MENTION = re.compile(r"(?<!\w)@\w+")
# Three or more of the same letter are an elongation ("muuuuy", "soooo", "pleeease"); no
# Spanish or English word has a letter three times in a row. Digits are left alone ("1000").
_ELONGATION = re.compile(r"([^\W\d_])\1\1+")
_TRIPLE = re.compile(r"(\w)\1\1")  # a cheaper first look: most messages have none
# Marks that are part of a word in some scripts (they are not letters to `re`): the general
# combining diacritics, Cyrillic, Hebrew and Arabic marks, the Indic blocks, Thai vowel signs.
COMBINING_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u0900-\u0dff\u0e31-\u0e3a\u0e47-\u0e4e"
)
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u3030\u303d"
# A token is a word (letters of any script, with the combining marks some scripts need), an
# emoticon, or one emoji. Emoji and emoticons carry much of a short message's sentiment.
TOKEN = re.compile(
    rf"[^\W\d_]+(?:[{COMBINING_MARKS}]+[^\W\d_]*)*|"
    r"[:;=][-'o]?[()\[\]dp/\\|*]|<3|"
    rf"[{_EMOJI}]"
)
_NOT_LETTER = re.compile(r"[\W\d_]+")
# Capitals are counted by deleting everything else in one regex pass and measuring what is left:
# far cheaper than a Python loop over the characters or a list of matches.
_NOT_CAPITAL = re.compile(r"[^A-Z\u00c0-\u00de\u0391-\u03a9\u0410-\u042f]+")  # Latin, Greek, Cyrillic


class Normalized(NamedTuple):  # a tuple, not a frozen dataclass: built once per message, and fast
    """One message as the analysers see it."""

    lowered: str  # casefolded, accents kept, URLs and mentions removed
    spoken: str  # its words, emoticons and emoji with accents, one space apart: for language identification
    tokens: tuple[str, ...]  # the same without accents: for matching and the sentiment model
    letters: int  # how many letters in words: too few and no language can be told
    urls: int
    mentions: int
    questions: int  # "?" and "¿"
    exclamations: int
    shouting: bool  # mostly capitals, over enough letters to mean it
    elongated: bool  # "muuuuy", "noooo": emphasis


EMPTY = Normalized("", "", (), 0, 0, 0, 0, 0, False, False)


def normalize(text: str) -> Normalized:
    """Never raises: whatever a network sends, the worst outcome is an empty analysis."""
    if not isinstance(text, str) or not text:
        return EMPTY
    text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    # NFKC folds compatibility forms: fullwidth and "mathematical bold" letters used to dodge
    # filters, and ligatures, become plain letters.
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    urls = mentions = 0
    if "/" in text or "www." in text:
        text, urls = _URL.subn(" ", text)
    if "@" in text:
        text, mentions = _MENTION.subn(" ", text)
    lowered = text.casefold()
    collapsed = _ELONGATION.sub(r"\1", lowered) if _TRIPLE.search(lowered) else lowered
    words = TOKEN.findall(collapsed)
    spoken = " ".join(words)
    # Accents go after tokenizing, so the language identifier still sees them.
    folded = unaccent(spoken)
    # Letters in words, not emoji or emoticons: one regex over the words run together, which
    # only has something to delete where an emoji or emoticon was.
    letters = len(_NOT_LETTER.sub("", "".join(words)))
    return Normalized(
        lowered=lowered,
        spoken=spoken,
        tokens=tuple(folded.split(" ")) if folded else (),
        letters=letters,
        urls=urls,
        mentions=mentions,
        questions=text.count("?") + text.count("¿"),
        exclamations=text.count("!") + text.count("¡"),
        shouting=letters >= 12 and len(_NOT_CAPITAL.sub("", text)) > 0.7 * letters,
        elongated=collapsed is not lowered,
    )


def _base_letter(match: re.Match[str]) -> str:
    return _UNACCENT[match[0]]


def unaccent(text: str) -> str:
    """Latin letters without their diacritics; other scripts as they are (see `_unaccent`)."""
    return text if text.isascii() else _ACCENTED.sub(_base_letter, text)


def fold(term: str) -> str:
    """A lexicon term in the form `normalize` gives the text it is matched against."""
    return " ".join(normalize(term).tokens)
