"""The prefilter: which queries could match a post, found for a whole batch in one scan.

Every query is reduced to a requirement: a set of atoms at least one of which any post it matches
must contain. A text atom is a literal that must occur in the folded text (a word, the longest
literal part of a wildcard, the most distinctive word of a phrase); a field atom is an exact
author, language, network or channel, or a domain the post's link must be on. All text atoms of all
queries go into one Hyperscan database and a batch of posts is scanned as one buffer, so the cost
of finding candidates barely grows with the number of queries. A query with no requirement
(`followers:>1000 NOT spam`) is a candidate for every post.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import hyperscan

from tertulia.listening.query import syntax as s
from tertulia.listening.query.document import host_of, language_code
from tertulia.listening.query.folding import fold

# ("text", literal) or (field name, value); for "site" the value is a domain.
Atom = tuple[str, str]
Requirement = frozenset[Atom]

# Words so common that requiring them prefilters almost nothing: a query's AND picks another part
# when it has one. Spanish and English, folded.
_COMMON_WORDS = """
a al algo como con de del el en es esta este for in is it la las lo los me mi mas muy no of on or para
pero por que se si sin su the this to un una y ya you
"""
_COMMON = frozenset(_COMMON_WORDS.split())
_FIELD_COST = {"author": 0.05, "channel": 0.2, "site": 0.1, "lang": 5.0, "network": 5.0}


def requirement(node: s.Node) -> Requirement | None:
    """Atoms one of which every post matching `node` contains; None when no such set exists."""
    if isinstance(node, s.Words):
        return frozenset({("text", _best_literal(pattern.text for pattern in node.patterns))})
    if isinstance(node, s.Tagged):
        pieces = node.pattern.literal_pieces()
        best = max(pieces, key=len)
        # The tag's mark is part of the literal when nothing can come between them.
        literal = node.tag.value + best if node.pattern.text.startswith(best) else best
        return frozenset({("text", literal)})
    if isinstance(node, s.FieldIs):
        if node.pattern.is_wildcard:
            return None
        return frozenset({(node.field.value, node.pattern.text)})
    if isinstance(node, s.Or):
        union: set[Atom] = set()
        for operand in node.operands:
            needed = requirement(operand)
            if needed is None:
                return None
            union |= needed
        return frozenset(union)
    if isinstance(node, s.And | s.Near):
        operands = node.operands if isinstance(node, s.And) else (node.left, node.right)
        options = [needed for needed in map(requirement, operands) if needed is not None]
        return min(options, key=cost) if options else None
    return None  # NOT and followers: nothing they require can be found


def _best_literal(patterns: Iterable[str]) -> str:
    pieces = [piece for text in patterns for piece in s.Pattern(text).literal_pieces()]
    return min(pieces, key=lambda piece: (piece in _COMMON, -len(piece)))


def cost(needed: Requirement) -> float:
    """How many posts a requirement lets through, roughly: fewer, longer, rarer atoms are better."""
    total = 0.0
    for kind, value in needed:
        if kind == "text":
            total += 10.0 if value in _COMMON else 1.0 / max(len(value), 1)
        else:
            total += _FIELD_COST[kind]
    return total


@dataclass(frozen=True, slots=True)
class FieldView:
    """The fields of a post that field atoms look up, folded like the query's values."""

    author: str
    lang: str
    network: str
    channel: str
    host: str


def field_view(author: str, lang: str, network: str, channel: str, url: str) -> FieldView:
    return FieldView(
        author=fold(author.strip()).removeprefix("@"),
        lang=language_code(lang),
        network=network.strip().lower(),
        channel=fold(channel.strip()),
        host=host_of(url),
    )


class Prefilter:
    def __init__(self, requirements: Sequence[Requirement | None]) -> None:
        self.always = [index for index, needed in enumerate(requirements) if needed is None]
        texts: dict[str, list[int]] = {}
        self.fields: dict[tuple[str, str], list[int]] = {}
        for index, needed in enumerate(requirements):
            for kind, value in needed or ():
                if kind == "text":
                    texts.setdefault(value, []).append(index)
                else:
                    self.fields.setdefault((kind, value), []).append(index)
        self.literals = list(texts)
        self.queries_of_literal = [texts[literal] for literal in self.literals]
        self.database: hyperscan.Database | None = None
        if self.literals:
            self.database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            self.database.compile(
                expressions=[literal.encode() for literal in self.literals],
                ids=list(range(len(self.literals))),
                elements=len(self.literals),
                flags=0,
                literal=True,
            )

    def candidates(self, folded: Sequence[str], fields: Sequence[FieldView] | None) -> list[set[int]]:
        """The queries worth evaluating on each post (`fields` may be None when no query has a field atom)."""
        found: list[set[int]] = [set(self.always) for _ in folded]
        if self.database is not None and folded:
            self._scan(folded, found)
        if self.fields and fields is not None:
            for post, view in enumerate(fields):
                self._look_up_fields(view, found[post])
        return found

    def _scan(self, folded: Sequence[str], found: list[set[int]]) -> None:
        data = "\x1e".join(folded).encode()
        starts: list[int] = [0]
        position = data.find(b"\x1e")
        while position != -1:
            starts.append(position + 1)
            position = data.find(b"\x1e", position + 1)
        hits: list[tuple[int, int]] = []

        def on_match(literal: int, start: int, end: int, flags: int, context: object) -> None:
            hits.append((end, literal))

        assert self.database is not None
        self.database.scan(data, match_event_handler=on_match)
        seen: set[tuple[int, int]] = set()
        queries_of_literal = self.queries_of_literal
        for end, literal in hits:
            post = bisect_right(starts, end - 1) - 1
            if (post, literal) not in seen:
                seen.add((post, literal))
                found[post].update(queries_of_literal[literal])

    def _look_up_fields(self, view: FieldView, found: set[int]) -> None:
        fields = self.fields
        for key in (
            ("author", view.author),
            ("lang", view.lang),
            ("network", view.network),
            ("channel", view.channel),
        ):
            if key[1] and key in fields:
                found.update(fields[key])
        if view.host:
            labels = view.host.split(".")
            for index in range(len(labels)):
                key = ("site", ".".join(labels[index:]))
                if key in fields:
                    found.update(fields[key])
