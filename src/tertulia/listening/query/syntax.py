"""The parsed form of a listening query: a small tree of immutable nodes.

Words are stored folded (casefolded, accents removed, docs/listening.md#folding), so evaluating a
query never folds anything again. `start` is the node's offset in the query text, for messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Pattern:
    """One word to find: literal, or with `*` (any letters) and `?` (one letter) in it."""

    text: str  # folded; may contain * and ?

    @property
    def is_wildcard(self) -> bool:
        return "*" in self.text or "?" in self.text

    def literal_pieces(self) -> list[str]:
        """The parts between wildcards: a match contains every one of them."""
        return [piece for piece in self.text.replace("?", "*").split("*") if piece]


@dataclass(frozen=True, slots=True)
class Words:
    """A word, or several in a row ("exact phrase", or a term like coca-cola that is several words)."""

    patterns: tuple[Pattern, ...]
    start: int
    quoted: bool = False


class Tag(StrEnum):
    HASHTAG = "#"
    MENTION = "@"


@dataclass(frozen=True, slots=True)
class Tagged:
    """#hashtag or @mention: found only as a hashtag or mention, not as a plain word."""

    tag: Tag
    pattern: Pattern
    start: int


class Field(StrEnum):
    AUTHOR = "author"
    LANG = "lang"
    SITE = "site"
    CHANNEL = "channel"
    NETWORK = "network"


@dataclass(frozen=True, slots=True)
class FieldIs:
    """author:, lang:, site:, channel:, network: a property of the post, not of its text."""

    field: Field
    pattern: Pattern  # folded; lang and network are plain codes, site a domain
    start: int


class Comparison(StrEnum):
    ABOVE = ">"
    AT_LEAST = ">="
    BELOW = "<"
    AT_MOST = "<="


@dataclass(frozen=True, slots=True)
class Followers:
    comparison: Comparison
    count: int
    start: int

    def holds(self, followers: int | None) -> bool:
        if followers is None:
            return False  # a post whose reach is unknown is not "above" or "below" anything
        if self.comparison is Comparison.ABOVE:
            return followers > self.count
        if self.comparison is Comparison.AT_LEAST:
            return followers >= self.count
        if self.comparison is Comparison.BELOW:
            return followers < self.count
        return followers <= self.count


@dataclass(frozen=True, slots=True)
class Near:
    """left NEAR/n right: at most `distance` words between them; `ordered` (NEAR/nf): left first."""

    left: Node
    right: Node
    distance: int
    ordered: bool
    start: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    start: int


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]
    start: int


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]
    start: int


# What NEAR can join: things found at a position in the text (and ORs and NEARs of them).
Positional = Words | Tagged | Near
Node = Words | Tagged | FieldIs | Followers | Near | Not | And | Or
