"""Parse a listening query into a tree (query/syntax.py); grammar in docs/listening.md#grammar.

    query   = or EOF
    or      = and { "OR" and }
    and     = not { ["AND"] not }            two things side by side are ANDed
    not     = "NOT" not | near
    near    = primary { "NEAR/n" ["f"] primary }
    primary = "(" or ")" | "phrase" | word | #hashtag | @mention | field:value

Operators are written in capitals; "and", "or" and "not" in lower case are words (a warning says
so). Every limit below turns a hostile query into a positioned error instead of a slow match or a
deep recursion: the parser recurses only into parentheses and NOTs, and counts how deep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tertulia.listening.query import syntax as s
from tertulia.listening.query.errors import QueryError
from tertulia.listening.query.folding import fold
from tertulia.listening.query.lexer import Kind, Token, tokenize
from tertulia.nlp.normalize import COMBINING_MARKS

MAX_QUERY_CHARS = 20_000
MAX_TERMS = 2_000
MAX_DEPTH = 32
MAX_WORD = 100
MAX_NEAR_CHAIN = 4
# NEARs in one query, however grouped: each costs up to (words in the post) x (distance) steps.
MAX_NEARS = 12
MAX_WILDCARDS = 3
MIN_WILDCARD_LETTERS = 3

NETWORKS = ("bluesky", "facebook", "instagram", "linkedin", "mastodon", "sandbox", "web", "x")
_PIECE = re.compile(rf"[\w{COMBINING_MARKS}*?]+")
_TAG_TEXT = re.compile(rf"[\w{COMBINING_MARKS}*?]+$")
_HANDLE_TEXT = re.compile(rf"[\w{COMBINING_MARKS}*?](?:[\w.*?{COMBINING_MARKS}-]*[\w*?{COMBINING_MARKS}])?$")
_LANGUAGE = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$")
_DOMAIN = re.compile(r"(?:[a-z0-9*](?:[a-z0-9*-]{0,61}[a-z0-9*])?\.)+[a-z*][a-z0-9*-]{0,62}$")
# followers:>1000, >1.000 or >1,000 (thousands grouped, as Spanish and English write them), >1.5k, >2m.
_FOLLOWERS = re.compile(
    r"(>=|<=|>|<)(?:(\d{1,12})|(\d{1,3}(?:[.,]\d{3}){1,3})|(\d{1,9}(?:[.,]\d{1,3})?)([km]))$"
)
_LOWERCASE_OPERATORS = {"and": "AND", "or": "OR", "not": "NOT"}
_START_OF_OPERAND = {Kind.WORD, Kind.PHRASE, Kind.FIELD, Kind.OPEN, Kind.NOT}


@dataclass(frozen=True)
class Warning:
    code: str
    position: int
    message: str


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    root: s.Node
    terms: int
    warnings: tuple[Warning, ...] = field(default=())


def parse(text: str) -> ParsedQuery:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError("too_long", MAX_QUERY_CHARS, limit=f"{MAX_QUERY_CHARS:,}")
    tokens = tokenize(text)
    if tokens[0].kind is Kind.END:
        raise QueryError("empty", 0)
    parser = _Parser(tokens)
    root = parser.parse_or()
    end = parser.peek()
    if end.kind is Kind.CLOSE:
        raise QueryError("unmatched_paren", end.start)
    if end.kind is not Kind.END:  # pragma: no cover - every other token continues an AND
        raise _unexpected(end, [_("an operator"), _("the end of the query")])
    if not _finds_something(root):
        raise QueryError("only_negative", 0, len(text))
    return ParsedQuery(text, root, parser.terms, tuple(parser.warnings))


def _finds_something(node: s.Node) -> bool:
    """Whether every post the query matches must contain something it names (not only absences)."""
    if isinstance(node, s.Not):
        return False
    if isinstance(node, s.And):
        return any(_finds_something(operand) for operand in node.operands)
    if isinstance(node, s.Or):
        return all(_finds_something(operand) for operand in node.operands)
    return True


def _operand_expected() -> list[str]:
    return [_("a word"), _('a "phrase"'), "#hashtag", "@mention", _("a filter"), '"("']


def _unexpected(token: Token, expected: list[str]) -> QueryError:
    return QueryError(
        "unexpected",
        token.start,
        token.end - token.start,
        found=token.describe(),
        expected=_(" or ").join([", ".join(expected[:-1]), expected[-1]])
        if len(expected) > 1
        else expected[0],
        expected_list=expected,
    )


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.terms = 0
        self.warnings: list[Warning] = []
        self.grouped: set[int] = set()  # ids of nodes written in parentheses
        self.nears = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    # -- operators, loosest first

    def parse_or(self) -> s.Node:
        first = self.peek()
        operands = [self.parse_and()]
        while self.peek().kind is Kind.OR:
            operator = self.take()
            self._operand_follows(operator)
            operands.append(self.parse_and())
        if len(operands) == 1:
            return operands[0]
        for operand in operands:
            if isinstance(operand, s.And) and id(operand) not in self.grouped:
                self.warnings.append(
                    Warning(
                        "and_inside_or",
                        operand.start,
                        _(
                            "AND binds tighter than OR: a OR b c means a OR (b AND c). "
                            "Add parentheses if you meant (a OR b) c."
                        ),
                    )
                )
                break
        return s.Or(tuple(operands), first.start)

    def parse_and(self) -> s.Node:
        first = self.peek()
        operands = [self.parse_not()]
        while True:
            token = self.peek()
            if token.kind is Kind.AND:
                self.take()
                self._operand_follows(token)
            elif token.kind not in _START_OF_OPERAND:
                break
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else s.And(tuple(operands), first.start)

    def parse_not(self) -> s.Node:
        nots: list[Token] = []
        while self.peek().kind is Kind.NOT:
            nots.append(self.take())
            self._operand_follows(nots[-1])
        if self.depth + len(nots) > MAX_DEPTH:
            raise QueryError("too_deep", nots[MAX_DEPTH - self.depth].start, limit=MAX_DEPTH)
        self.depth += len(nots)  # a NOT nests like a parenthesis does
        node = self.parse_near()
        self.depth -= len(nots)
        for token in reversed(nots):
            node = s.Not(node, token.start)
        return node

    def parse_near(self) -> s.Node:
        left = self.parse_primary()
        chain = 0
        while self.peek().kind is Kind.NEAR:
            operator = self.take()
            chain += 1
            self.nears += 1
            if self.nears > MAX_NEARS:
                raise QueryError(
                    "too_many_nears", operator.start, operator.end - operator.start, limit=MAX_NEARS
                )
            if chain > MAX_NEAR_CHAIN:
                raise QueryError(
                    "near_chain", operator.start, operator.end - operator.start, limit=MAX_NEAR_CHAIN
                )
            self._operand_follows(operator)
            right = self.parse_primary()
            for operand in (left, right):
                _check_near_operand(operand)
            left = s.Near(left, right, operator.distance, operator.ordered, _start(left))
        return left

    def parse_primary(self) -> s.Node:
        token = self.peek()
        if token.kind is Kind.OPEN:
            return self._group()
        if token.kind is Kind.PHRASE:
            self.take()
            return self._phrase(token)
        if token.kind is Kind.WORD:
            self.take()
            return self._word(token)
        if token.kind is Kind.FIELD:
            self.take()
            return self._field(token)
        if token.kind in (Kind.AND, Kind.OR, Kind.NEAR):
            raise QueryError(
                "dangling_operator",
                token.start,
                token.end - token.start,
                operator=token.text,
                expected_list=_operand_expected(),
            )
        if token.kind is Kind.CLOSE:
            previous = self.tokens[self.index - 1] if self.index else None
            if previous is not None and previous.kind is Kind.OPEN:
                raise QueryError("empty_group", previous.start, token.end - previous.start)
            if self.depth == 0:
                raise QueryError("unmatched_paren", token.start)
        raise _unexpected(token, _operand_expected())

    def _operand_follows(self, operator: Token) -> None:
        if self.peek().kind in (Kind.END, Kind.CLOSE, Kind.AND, Kind.OR, Kind.NEAR):
            raise QueryError(
                "dangling_operator",
                operator.start,
                operator.end - operator.start,
                operator=operator.text,
                expected_list=_operand_expected(),
            )

    def _group(self) -> s.Node:
        opening = self.take()
        if self.depth >= MAX_DEPTH:
            raise QueryError("too_deep", opening.start, limit=MAX_DEPTH)
        self.depth += 1
        if self.peek().kind is Kind.CLOSE:
            raise QueryError("empty_group", opening.start, self.peek().end - opening.start)
        if self.peek().kind is Kind.END:
            raise QueryError("unclosed_paren", opening.start, expected_list=['")"'])
        node = self.parse_or()
        closing = self.peek()
        if closing.kind is Kind.END:
            raise QueryError("unclosed_paren", opening.start, expected_list=['")"'])
        if closing.kind is not Kind.CLOSE:  # pragma: no cover - parse_or stops only at ) or the end
            raise _unexpected(closing, ['")"'])
        self.take()
        self.depth -= 1
        self.grouped.add(id(node))
        return node

    # -- leaves

    def _count(self, token: Token) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError("too_many_terms", token.start, limit=f"{MAX_TERMS:,}")

    def _phrase(self, token: Token) -> s.Node:
        self._count(token)
        pieces = _PIECE.findall(fold(token.text))
        if not pieces or all(not piece.strip("*?") for piece in pieces):
            raise QueryError("empty_phrase", token.start, token.end - token.start)
        return s.Words(tuple(_pattern(piece, token) for piece in pieces), token.start, quoted=True)

    def _word(self, token: Token) -> s.Node:
        self._count(token)
        text = token.text
        lowered = text.lower()
        if lowered in _LOWERCASE_OPERATORS and text != text.upper():
            operator = _LOWERCASE_OPERATORS[lowered]
            self.warnings.append(
                Warning(
                    "lowercase_operator",
                    token.start,
                    _('"%(word)s" is looked for as a word; write %(operator)s in capitals for the operator.')
                    % {"word": text, "operator": operator},
                )
            )
        if text[0] in "#@" and len(text) > 1:
            tag = s.Tag(text[0])
            value = fold(text[1:]).rstrip(".-")
            shape = _TAG_TEXT if tag is s.Tag.HASHTAG else _HANDLE_TEXT
            if not shape.match(value):
                raise QueryError("no_word", token.start, token.end - token.start, text=text)
            return s.Tagged(tag, _pattern(value, token), token.start)
        pieces = _PIECE.findall(fold(text))
        if not pieces:
            raise QueryError("no_word", token.start, token.end - token.start, text=text)
        return s.Words(tuple(_pattern(piece, token) for piece in pieces), token.start)

    def _field(self, token: Token) -> s.Node:
        self._count(token)
        name, raw = token.name, token.text.strip()
        if name == "followers":
            return _followers(token, raw)
        try:
            kind = s.Field(name)
        except ValueError:
            names = ", ".join(f"{field.value}:" for field in s.Field) + ", followers:"
            raise QueryError(
                "unknown_field", token.start, len(name) + 1, field=f"{name}:", fields=names
            ) from None
        if not raw:
            raise QueryError(
                "field_value", token.start, token.end - token.start, field=name, example=_EXAMPLES[kind]
            )
        value = fold(raw)
        if kind is s.Field.LANG:
            language = _LANGUAGE.match(value)
            if language is None:
                raise QueryError("bad_language", token.start, token.end - token.start, value=raw)
            value = language[1]
        elif kind is s.Field.NETWORK:
            if value not in NETWORKS:
                raise QueryError(
                    "bad_network",
                    token.start,
                    token.end - token.start,
                    value=raw,
                    networks=", ".join(NETWORKS),
                )
        elif kind is s.Field.SITE:
            value = _site(value)
            if not _DOMAIN.match(value):
                raise QueryError("bad_site", token.start, token.end - token.start, value=raw)
        elif kind is s.Field.AUTHOR:
            value = value.removeprefix("@")
        return s.FieldIs(kind, _pattern(value, token), token.start)


_EXAMPLES = {
    s.Field.AUTHOR: "author:someone.bsky.social",
    s.Field.LANG: "lang:es",
    s.Field.SITE: "site:example.com",
    s.Field.CHANNEL: 'channel:"Bodega Demo"',
    s.Field.NETWORK: "network:bluesky",
}


def _site(value: str) -> str:
    value = value.removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return value.split("/", 1)[0]


def _followers(token: Token, raw: str) -> s.Followers:
    match = _FOLLOWERS.match(raw.replace(" ", "").lower())
    if match is None:
        raise QueryError("bad_followers", token.start, token.end - token.start)
    plain, grouped, scaled, unit = match[2], match[3], match[4], match[5]
    if plain is not None:
        count = int(plain)
    elif grouped is not None:
        count = int(grouped.replace(".", "").replace(",", ""))
    else:
        count = int(float(scaled.replace(",", ".")) * {"k": 1_000, "m": 1_000_000}[unit])
    return s.Followers(s.Comparison(match[1]), count, token.start)


def _pattern(text: str, token: Token) -> s.Pattern:
    length = token.end - token.start
    if len(text) > MAX_WORD:
        raise QueryError("word_too_long", token.start, length, limit=MAX_WORD)
    wildcards = text.count("*") + text.count("?")
    if wildcards:
        # "**" is one wildcard; the limits keep every pattern cheap to try on a word.
        text = re.sub(r"\*+", "*", text)
        if text.count("*") + text.count("?") > MAX_WILDCARDS:
            raise QueryError("wildcard_too_many", token.start, length, limit=MAX_WILDCARDS)
        if len(text) - text.count("*") - text.count("?") < MIN_WILDCARD_LETTERS:
            raise QueryError("wildcard_too_short", token.start, length, minimum=MIN_WILDCARD_LETTERS)
    return s.Pattern(text)


def _check_near_operand(node: s.Node) -> None:
    if isinstance(node, s.Words | s.Tagged | s.Near):
        return
    if isinstance(node, s.Or):
        for operand in node.operands:
            _check_near_operand(operand)
        return
    found = {
        s.And: _("AND"),
        s.Not: _("NOT"),
        s.FieldIs: _("a filter"),
        s.Followers: _("a filter"),
    }[type(node)]
    raise QueryError("near_operand", _start(node), found=found)


def _start(node: s.Node) -> int:
    return node.start
