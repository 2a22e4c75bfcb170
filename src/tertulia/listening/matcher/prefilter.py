"""The prefilter: which queries could match a post, found for a whole batch in one scan.

Every query is reduced to what any post it matches must contain: a conjunction of groups, each a
set of atoms at least one of which is in the post (`needs`). A text atom is a literal that must
occur in the folded text (a word, a literal part of a wildcard, each word of a phrase); a field
atom is an exact author, language, network or channel, or a domain the post's link must be on.

One group per query, the one estimated to let the fewest posts through, is its trigger: all the
triggers' text atoms go into one Hyperscan database and a batch of posts is scanned as one buffer,
so the cost of finding candidates barely grows with the number of queries; a hit of a whole word
inside a longer one ("presa" in "empresa") is dropped by looking at its neighbours. A triggered query's
other groups are then checked with substring tests on the post's folded text (C-level, a fraction
of a microsecond), so `brand AND (precio OR envío)` is evaluated only on posts that have both.
A query with no requirement (`followers:>1000 NOT spam`) is a candidate for every post.

Every test here can only let through posts the query might not match, never drop one it matches:
a token equal to a literal, or containing it, puts the literal in the folded text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

import hyperscan

from tertulia.listening.query import syntax as s
from tertulia.listening.query.document import Post, host_of, language_code
from tertulia.listening.query.folding import MAX_WORD, fold

# (kind, literal) or (field name, value); for "site" the value is a domain. Text kinds: "text"
# anywhere, "word" a whole word, "start" and "end" the start or end of one (see _pattern_atoms).
Atom = tuple[str, str]
TEXT_KINDS = frozenset({"text", "word", "start", "end"})
_RANK = {"text": 0, "start": 1, "end": 1, "word": 2}  # weaker first: a word is also a start
# A whole word is rarer than the same letters anywhere: "presa" is in every "empresa".
_EDGE_SHARE = {"text": 1.0, "start": 0.6, "end": 0.6, "word": 0.3}
Requirement = frozenset[Atom]  # at least one of these is in every post the query matches
Needs = list[Requirement]  # all of these are

# Words so common that requiring them prefilters almost nothing: a query's AND picks another part
# when it has one. Spanish and English, folded.
_COMMON_WORDS = """
a al algo como con de del el en es esta este for in is it la las lo los me mi mas muy no of on or para
pero por que se si sin su the this to un una y ya you
"""
_COMMON = frozenset(_COMMON_WORDS.split())
# Roughly the share of posts with a literal of this length somewhere in them (a short one is a
# part of many words); beyond the table, each letter divides it by two.
_SHARE_BY_LENGTH = (1.0, 0.5, 0.3, 0.1, 0.03, 0.01, 0.004, 0.002)
_FIELD_SHARE = {"author": 0.001, "channel": 0.02, "site": 0.003, "lang": 0.3, "network": 0.2}
# A group is a check only while it is small: a check tries each atom in turn.
_MAX_CHECK_ATOMS = 32
_MAX_CHECKS = 4
# Absorbing atoms that contain another is quadratic: bounded for huge OR lists.
_MAX_ABSORB = 400
# Distinct field values kept normalised between batches, at most.
_MAX_CACHED = 100_000
_ASCII_WORD = re.compile(r"[A-Za-z0-9_]")
_WORD_BYTE = tuple(_ASCII_WORD.match(chr(byte)) is not None for byte in range(256))
SEPARATOR = "\x1e"  # between posts in a scanned batch; folding removes it from texts


def needs(node: s.Node) -> Needs:
    """Groups of atoms: every post matching `node` contains an atom of each (none known: [])."""
    if isinstance(node, s.Words):
        atoms: dict[Atom, None] = {}
        for pattern in node.patterns:
            atoms.update(dict.fromkeys(_pattern_atoms(pattern, "")))
        return [frozenset({atom}) for atom in atoms]
    if isinstance(node, s.Tagged):
        return [frozenset({atom}) for atom in dict.fromkeys(_pattern_atoms(node.pattern, node.tag.value))]
    if isinstance(node, s.FieldIs):
        if node.pattern.is_wildcard:
            return []
        return [frozenset({(node.field.value, node.pattern.text)})]
    if isinstance(node, s.Or):
        union: set[Atom] = set()
        for operand in node.operands:
            groups = needs(operand)
            if not groups:
                return []
            best: Requirement = min(groups, key=_share)
            union |= best
        return [_absorbed(frozenset(union))]
    if isinstance(node, s.And | s.Near):
        operands = node.operands if isinstance(node, s.And) else (node.left, node.right)
        found: dict[Requirement, None] = {}  # ordered and without repeats
        for operand in operands:
            found.update(dict.fromkeys(needs(operand)))
        return list(found)
    return []  # NOT and followers: nothing they require can be found


def _pattern_atoms(pattern: s.Pattern, mark: str) -> list[Atom]:
    """The literals a token matching `pattern` shows in the text, and where its edges are.

    A whole word is a "word" atom: no word character right before or after it. The first literal
    part of a wildcard starts a token ("start"). A tag's mark is part of its literal (nothing can
    come between them) and the token ends where the literal does ("end"). Nothing is said about
    the end of a wildcard or of a word of MAX_WORD letters: the token may be a longer word cut.
    """
    text = pattern.text
    if not pattern.is_wildcard:
        whole = len(text) < MAX_WORD
        if mark:
            return [("end" if whole else "text", mark + text)]
        return [("word" if whole else "text", text)]
    pieces = pattern.literal_pieces()
    atoms: list[Atom] = []
    for number, piece in enumerate(pieces):
        if number == 0 and text.startswith(piece):
            atoms.append(("text", mark + piece) if mark else ("start", piece))
        else:
            atoms.append(("text", piece))
    return atoms


def requirement(node: s.Node) -> Requirement | None:
    """The single group a post matching `node` is surest to be caught by; None when there is none."""
    groups = needs(node)
    return min(groups, key=_share) if groups else None


def _implies(atom: Atom, other: Atom) -> bool:
    """Whether every text with `atom` (a text atom) has `other` too."""
    kind, value = atom
    other_kind, other_value = other
    if other_kind == "text":
        return other_value in value
    if other_kind == "start":
        return kind in ("start", "word") and value.startswith(other_value)
    if other_kind == "end":
        return kind in ("end", "word") and value.endswith(other_value)
    return kind == "word" and value == other_value


def _absorbed(group: Requirement) -> Requirement:
    """Without the text atoms another one already catches: `#velmora` adds nothing next to `velmora`."""
    texts = sorted(
        (atom for atom in group if atom[0] in TEXT_KINDS), key=lambda atom: (len(atom[1]), _RANK[atom[0]])
    )
    if len(texts) < 2 or len(texts) > _MAX_ABSORB:
        return group
    kept: list[Atom] = []
    for atom in texts:
        if not any(_implies(atom, weaker) for weaker in kept):
            kept.append(atom)
    return frozenset(kept) | {atom for atom in group if atom[0] not in TEXT_KINDS}


def _atom_share(atom: Atom) -> float:
    kind, value = atom
    if kind not in TEXT_KINDS:
        return _FIELD_SHARE[kind]
    if value in _COMMON:
        return 1.0
    length = len(value.lstrip("#@"))
    if length < len(_SHARE_BY_LENGTH):
        share = _SHARE_BY_LENGTH[length]
    else:
        share = _SHARE_BY_LENGTH[-1] / 2 ** (length - len(_SHARE_BY_LENGTH) + 1)
    return share * _EDGE_SHARE[kind]


def _share(group: Requirement) -> float:
    """How many posts a group lets through, roughly: fewer, longer, rarer atoms are better."""
    return sum(map(_atom_share, group))


@dataclass(frozen=True, slots=True)
class Check:
    """A group that is not the query's trigger: one of `texts` in the folded text, or one of `fields`."""

    texts: tuple[str, ...]
    fields: frozenset[Atom]


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


def _view_of(post: Post) -> FieldView:
    return field_view(post.author, post.lang, post.network, post.channel, post.url)


def _field_atoms(view: FieldView) -> list[Atom]:
    """The field atoms a post has: its author, language, network, channel, and each domain it is on."""
    atoms = [
        (kind, value)
        for kind, value in (
            ("author", view.author),
            ("lang", view.lang),
            ("network", view.network),
            ("channel", view.channel),
        )
        if value
    ]
    if view.host:
        labels = view.host.split(".")
        atoms.extend(("site", ".".join(labels[index:])) for index in range(len(labels)))
    return atoms


class Prefilter:
    def __init__(self, queries: Sequence[Needs]) -> None:
        # A literal many queries use is a generic word ("precio", "review"), not a name: it is
        # found in more posts than its length says, and each hit wakes all those queries.
        used = Counter(atom for groups in queries for group in groups for atom in group)

        def weight(group: Requirement) -> float:
            return sum(_atom_share(atom) * used[atom] for atom in group)

        self.always: list[int] = []
        self.checks: list[tuple[Check, ...]] = []
        texts: dict[Atom, list[int]] = {}
        self.fields: dict[Atom, list[int]] = {}
        for index, groups in enumerate(queries):
            ranked = sorted(groups, key=weight)
            if not ranked:
                self.always.append(index)
                self.checks.append(())
                continue
            for kind, value in ranked[0]:
                if kind in TEXT_KINDS:
                    texts.setdefault((kind, value), []).append(index)
                else:
                    self.fields.setdefault((kind, value), []).append(index)
            self.checks.append(
                tuple(
                    Check(
                        # The likeliest literal first: a group the post has is found sooner.
                        tuple(
                            sorted(
                                (value for kind, value in group if kind in TEXT_KINDS),
                                key=lambda value: -_atom_share(("text", value)),
                            )
                        ),
                        frozenset(atom for atom in group if atom[0] not in TEXT_KINDS),
                    )
                    for group in ranked[1 : 1 + _MAX_CHECKS]
                    if len(group) <= _MAX_CHECK_ATOMS
                )
            )
        self.atoms = list(texts)
        self.literals = [value for _, value in self.atoms]
        self.queries_of_literal = [texts[atom] for atom in self.atoms]
        self.edges = [_edges(atom) for atom in self.atoms]
        self.field_kinds = frozenset(kind for kind, _ in self.fields)
        self._normal: dict[tuple[str, str], str] = {}
        self._sites: dict[str, list[int]] = {}
        self.database: hyperscan.Database | None = None
        if self.literals:
            self.database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            # Literal mode compiles in a fraction of the time regular expressions with \\b take
            # (a second against a minute for 20,000): the edges are checked on each hit instead.
            self.database.compile(
                expressions=[value.encode() for value in self.literals],
                ids=list(range(len(self.atoms))),
                elements=len(self.atoms),
                flags=0,
                literal=True,
            )

    def candidates(self, folded: Sequence[str], posts: Sequence[Post]) -> dict[int, list[int]]:
        """The queries worth evaluating, in order, for each post that has any (by its place in `posts`)."""
        triggered: dict[int, set[int]] = {}
        if self.database is not None and folded:
            self.scan_text(folded, triggered)
        if self.fields:
            self._look_up_fields(posts, triggered)
        found: dict[int, list[int]] = {}
        checks = self.checks
        for post, queries in triggered.items():
            text = folded[post]
            view: FieldView | None = None
            kept: list[int] = []
            for query in sorted(queries):
                for check in checks[query]:
                    if any(literal in text for literal in check.texts):
                        continue
                    if check.fields:
                        view = view or _view_of(posts[post])
                        if not check.fields.isdisjoint(_field_atoms(view)):
                            continue
                    break  # a group the post has none of: the query cannot match
                else:
                    kept.append(query)
            if kept:
                found[post] = kept
        if self.always:
            for post in range(len(folded)):
                found[post] = sorted({*found.get(post, ()), *self.always})
        return found

    def scan_text(self, folded: Sequence[str], triggered: dict[int, set[int]]) -> None:
        """Add to `triggered` the queries whose trigger literals each post contains."""
        assert self.database is not None
        data = SEPARATOR.join(folded).encode()
        # Where each post starts in the buffer, from the lengths of its parts: all C-level calls.
        starts = list(accumulate(map((1).__add__, map(len, data.split(b"\x1e"))), initial=0))
        hits: list[tuple[int, int]] = []
        add = hits.append

        def on_match(literal: int, start: int, end: int, flags: int, context: object) -> None:
            add((end, literal))

        self.database.scan(data, match_event_handler=on_match)
        seen: set[tuple[int, int]] = set()
        queries_of_literal, edges, word_byte, size = (
            self.queries_of_literal,
            self.edges,
            _WORD_BYTE,
            len(data),
        )
        for end, literal in hits:
            length, left, right = edges[literal]
            if (left and end > length and word_byte[data[end - length - 1]]) or (
                right and end < size and word_byte[data[end]]
            ):
                continue  # inside a longer word: not the word, nor the start or end of one
            post = bisect_right(starts, end - 1) - 1
            if (post, literal) not in seen:
                seen.add((post, literal))
                _add(triggered, post, queries_of_literal[literal])

    def _look_up_fields(self, posts: Sequence[Post], triggered: dict[int, set[int]]) -> None:
        """Posts whose fields are a trigger: only the kinds some trigger uses are worked out."""
        fields, cache = self.fields, self._normal
        if len(cache) > _MAX_CACHED:
            cache.clear()
        kinds = [kind for kind in ("author", "lang", "network", "channel") if kind in self.field_kinds]
        for kind in kinds:
            for number, raw in enumerate([getattr(post, kind) for post in posts]):
                if not raw:
                    continue
                # Authors, languages, networks and channels repeat: each is normalised once.
                value = cache.get((kind, raw))
                if value is None:
                    value = cache[(kind, raw)] = _normalised(kind, raw)
                queries = fields.get((kind, value))
                if queries:
                    _add(triggered, number, queries)
        if "site" in self.field_kinds:
            sites = self._sites
            if len(sites) > _MAX_CACHED:
                sites.clear()
            for number, url in enumerate([post.url for post in posts]):
                if not url:
                    continue
                host = host_of(url)
                # Hosts repeat far more than links: the domains under each are looked up once.
                queries = sites.get(host)
                if queries is None:
                    labels = host.split(".") if host else []
                    queries = sites[host] = sorted(
                        {
                            query
                            for index in range(len(labels))
                            for query in fields.get(("site", ".".join(labels[index:])), ())
                        }
                    )
                if queries:
                    _add(triggered, number, queries)


def _add(triggered: dict[int, set[int]], post: int, queries: list[int]) -> None:
    found = triggered.get(post)
    if found is None:
        triggered[post] = set(queries)
    else:
        found.update(queries)


def _edges(atom: Atom) -> tuple[int, bool, bool]:
    """The atom's length in bytes, and whether a hit needs a non-word byte before it and after it.

    Only an edge that is an ASCII letter or digit is checked, against ASCII word bytes: a
    non-ASCII neighbour always passes (it may be a letter of another script; the exact step
    decides). So a post is never lost, and "presa" is not found in every "empresa".
    """
    kind, value = atom
    left = kind in ("word", "start") and _ASCII_WORD.match(value[0]) is not None
    right = kind in ("word", "end") and _ASCII_WORD.match(value[-1]) is not None
    return len(value.encode()), left, right


def _normalised(kind: str, raw: str) -> str:
    """A field's value as `field_view` gives it."""
    if kind == "author":
        return fold(raw.strip()).removeprefix("@")
    if kind == "lang":
        return language_code(raw)
    if kind == "network":
        return raw.strip().lower()
    return fold(raw.strip())
