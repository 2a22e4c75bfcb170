"""Split a query into tokens: parentheses, "phrases", operators, filters and bare words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from tertulia.listening.query.errors import QueryError


class Kind(Enum):
    OPEN = auto()
    CLOSE = auto()
    PHRASE = auto()
    WORD = auto()
    FIELD = auto()  # name:value, the value bare or quoted
    AND = auto()
    OR = auto()
    NOT = auto()
    NEAR = auto()
    END = auto()


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    start: int
    end: int
    text: str = ""  # the word, the phrase's inside, or the field's value
    name: str = ""  # the field's name
    distance: int = 0  # NEAR/n
    ordered: bool = False  # NEAR/nf

    def describe(self) -> str:
        if self.kind is Kind.END:
            return "the end of the query"
        if self.kind is Kind.PHRASE:
            return f'"{self.text}"'
        return repr(self.text or self.kind.name)


MAX_NEAR = 50
_BARE = re.compile(r'[^\s()"]+')
_NEAR = re.compile(r"NEAR/(\d{1,3})(f?)$")
_FIELD = re.compile(r"([A-Za-z]+):(.*)$", re.S)
_OPERATORS = {"AND": Kind.AND, "OR": Kind.OR, "NOT": Kind.NOT}


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(query)
    while position < length:
        char = query[position]
        if char.isspace():
            position += 1
        elif char == "(":
            tokens.append(Token(Kind.OPEN, position, position + 1, "("))
            position += 1
        elif char == ")":
            tokens.append(Token(Kind.CLOSE, position, position + 1, ")"))
            position += 1
        elif char == '"':
            inside, end = _quoted(query, position)
            tokens.append(Token(Kind.PHRASE, position, end, inside))
            position = end
        else:
            match = _BARE.match(query, position)
            assert match is not None  # anything but space, parentheses and quotes is bare text
            token, position = _bare(query, match)
            tokens.append(token)
    tokens.append(Token(Kind.END, length, length))
    return tokens


def _quoted(query: str, start: int) -> tuple[str, int]:
    r"""The inside of "..." starting at `start`, with \" and \\ unescaped, and the offset after it."""
    parts: list[str] = []
    position = start + 1
    while position < len(query):
        char = query[position]
        if char == "\\" and position + 1 < len(query):
            parts.append(query[position + 1])
            position += 2
        elif char == '"':
            return "".join(parts), position + 1
        else:
            parts.append(char)
            position += 1
    raise QueryError("unclosed_quote", start)


def _bare(query: str, match: re.Match[str]) -> tuple[Token, int]:
    text, start, end = match[0], match.start(), match.end()
    if text in _OPERATORS:
        return Token(_OPERATORS[text], start, end, text), end
    if text == "NEAR" or text.startswith("NEAR/"):  # NEARBY is a word
        near = _NEAR.match(text)
        if near is None or int(near[1]) > MAX_NEAR:
            raise QueryError("near_distance", start, len(text), limit=MAX_NEAR)
        return Token(Kind.NEAR, start, end, text, distance=int(near[1]), ordered=bool(near[2])), end
    field = _FIELD.match(text)
    if field is not None:
        name, value = field[1], field[2]
        if not value and end < len(query) and query[end] == '"':
            value, end = _quoted(query, end)
        return Token(Kind.FIELD, start, end, value, name=name.lower()), end
    return Token(Kind.WORD, start, end, text), end
