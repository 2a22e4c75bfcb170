"""Queries compiled to closures over a per-post index: the exact step after the prefilter.

Same meaning as query/reference.py, computed differently: words are found by set and dictionary
lookups instead of a walk over the tokens, booleans short-circuit, ORs and ANDs of plain words
are one set operation, and NEAR pairs spans through sorted lists instead of trying every pair.
The index builds only what the post's candidate queries ask for: most need the set of words,
few the positions (phrases, NEAR), the kinds (hashtags, mentions) or the fields.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import lru_cache

from tertulia.listening.query import syntax as s
from tertulia.listening.query.document import (
    TOKEN,
    Post,
    Prepared,
    TokenKind,
    host_of,
    language_code,
)
from tertulia.listening.query.folding import MAX_WORD, fold
from tertulia.listening.query.reference import NEAR_PLACES, Span, field_matches
from tertulia.listening.query.wildcards import pattern_test, wildcard_test

Test = Callable[["Index"], bool]
Finder = Callable[["Index"], list[Span]]


class Index:
    """One post's words, built once and shared by all its candidate queries; the rest on demand."""

    __slots__ = (
        "_fields",
        "_found",
        "_lines",
        "_positions",
        "_tagged",
        "post",
        "texts",
        "wildcard_at",
        "wildcard_in",
        "words",
    )

    def __init__(self, post: Post, folded: str) -> None:
        self.post = post
        # (mention, hashtag, word) per token, one of them non-empty: the tokens of document.tokens_of.
        self._found: list[tuple[str, str, str]] = TOKEN.findall(folded)
        texts = [word or hashtag or mention for mention, hashtag, word in self._found]
        if len(folded) > MAX_WORD:
            texts = [text[:MAX_WORD] for text in texts]
        self.texts = texts
        self.words = frozenset(texts)  # any kind, by text
        # What each wildcard found (whether, and where), for the next query that has it.
        self.wildcard_in: dict[str, bool] = {}
        self.wildcard_at: dict[str, list[int]] = {}
        self._positions: dict[str, list[int]] | None = None
        self._tagged: dict[tuple[TokenKind, str], list[int]] | None = None
        self._fields: Prepared | None = None
        self._lines: str | None = None

    @property
    def lines(self) -> str:
        """The distinct words, one a line: a wildcard is one C-level regex search over them all."""
        if self._lines is None:
            self._lines = "\n" + "\n".join(self.words) + "\n"
        return self._lines

    @property
    def positions(self) -> dict[str, list[int]]:
        """Where each text is, any kind, in order."""
        if self._positions is None:
            positions: dict[str, list[int]] = {}
            for position, text in enumerate(self.texts):
                positions.setdefault(text, []).append(position)
            self._positions = positions
        return self._positions

    @property
    def tagged(self) -> dict[tuple[TokenKind, str], list[int]]:
        """Where each hashtag and mention is, by kind and text."""
        if self._tagged is None:
            tagged: dict[tuple[TokenKind, str], list[int]] = {}
            for position, (_mention, hashtag, word) in enumerate(self._found):
                if not word:
                    kind = TokenKind.HASHTAG if hashtag else TokenKind.MENTION
                    tagged.setdefault((kind, self.texts[position]), []).append(position)
            self._tagged = tagged
        return self._tagged

    @property
    def fields(self) -> Prepared:
        """The post's fields as `prepare` gives them (without the tokens, which are here)."""
        if self._fields is None:
            post = self.post
            self._fields = Prepared(
                tokens=(),
                author=fold(post.author.strip()).removeprefix("@"),
                lang=language_code(post.lang),
                host=host_of(post.url),
                network=post.network.strip().lower(),
                channel=fold(post.channel.strip()),
                followers=post.followers,
            )
        return self._fields


def compile_query(root: s.Node) -> Test:
    return _test(root)


def _plain(node: s.Node) -> str | None:
    """The word, when `node` is one plain word (no wildcard, not a phrase)."""
    if isinstance(node, s.Words) and len(node.patterns) == 1 and not node.patterns[0].is_wildcard:
        return node.patterns[0].text
    return None


def _test(node: s.Node) -> Test:
    if isinstance(node, s.Or | s.And):
        plain = frozenset(word for word in map(_plain, node.operands) if word is not None)
        tests = tuple(_test(operand) for operand in node.operands if _plain(operand) is None)
        if isinstance(node, s.Or):
            # Any of the plain words is one C-level set operation; the rest are tried after it.
            if not tests:
                return lambda index: not plain.isdisjoint(index.words)
            if not plain:
                return lambda index: any(test(index) for test in tests)
            return lambda index: not plain.isdisjoint(index.words) or any(test(index) for test in tests)
        if not tests:
            return lambda index: plain <= index.words
        if not plain:
            return lambda index: all(test(index) for test in tests)
        return lambda index: plain <= index.words and all(test(index) for test in tests)
    if isinstance(node, s.Not):
        inner = _test(node.operand)
        return lambda index: not inner(index)
    if isinstance(node, s.Followers):
        holds = node.holds
        return lambda index: holds(index.post.followers)
    if isinstance(node, s.FieldIs):
        field_node = node
        return lambda index: field_matches(field_node, index.fields, _fits)
    word = _plain(node)
    if word is not None:
        return lambda index: word in index.words
    if isinstance(node, s.Words) and len(node.patterns) == 1:
        return _has_wildcard(node.patterns[0])
    find = _finder(node)
    return lambda index: bool(find(index))


@lru_cache(maxsize=4096)
def line_regex(text: str) -> re.Pattern[str]:
    """`pattern_regex` as a whole line of `Index.lines` (no word has a newline for `*` to cross)."""
    parts = ["[^\n]*" if char == "*" else "[^\n]" if char == "?" else re.escape(char) for char in text]
    return re.compile("(?<=\n)" + "".join(parts) + "(?=\n)")


def _has_wildcard(pattern: s.Pattern) -> Test:
    """Whether any word fits the wildcard; remembered on the index, as many queries share one."""
    key = pattern.text
    if pattern.text.count("*") > 1:
        # Two stars or more could make the one-search-over-all-words regex backtrack on long words.
        return _has_by_words(pattern)
    search = line_regex(pattern.text).search

    def has(index: Index) -> bool:
        known = index.wildcard_in.get(key)
        if known is None:
            known = index.wildcard_in[key] = search(index.lines) is not None
        return known

    return has


def _fits(pattern: s.Pattern, value: str) -> bool:
    return pattern_test(pattern.text, pattern.is_wildcard)(value)


def _has_by_words(pattern: s.Pattern) -> Test:
    fits = wildcard_test(pattern.text)
    key = pattern.text

    def has(index: Index) -> bool:
        known = index.wildcard_in.get(key)
        if known is None:
            known = index.wildcard_in[key] = any(fits(word) for word in index.positions)
        return known

    return has


def _word_positions(pattern: s.Pattern) -> Callable[[Index], list[int]]:
    if not pattern.is_wildcard:
        text = pattern.text
        return lambda index: index.positions.get(text, [])
    fits = wildcard_test(pattern.text)
    key = pattern.text

    def wildcard(index: Index) -> list[int]:
        known = index.wildcard_at.get(key)
        if known is None:
            found: list[int] = []
            for text, positions in index.positions.items():
                if fits(text):
                    found.extend(positions)
            known = index.wildcard_at[key] = sorted(found)
        return known

    return wildcard


def _finder(node: s.Node) -> Finder:
    if isinstance(node, s.Words):
        first = _word_positions(node.patterns[0])
        rest = [
            (offset, pattern.text, None if not pattern.is_wildcard else wildcard_test(pattern.text))
            for offset, pattern in enumerate(node.patterns[1:], start=1)
        ]
        width = len(node.patterns)

        def words(index: Index) -> list[Span]:
            texts = index.texts
            spans: list[Span] = []
            for start in first(index):
                if start + width > len(texts):
                    continue
                for offset, text, fullmatch in rest:
                    token = texts[start + offset]
                    if (token != text) if fullmatch is None else not fullmatch(token):
                        break
                else:
                    spans.append((start, start + width - 1))
            return spans

        return words
    if isinstance(node, s.Tagged):
        kind = TokenKind.HASHTAG if node.tag is s.Tag.HASHTAG else TokenKind.MENTION
        pattern = node.pattern
        if not pattern.is_wildcard:
            key = (kind, pattern.text)
            return lambda index: [(position, position) for position in index.tagged.get(key, [])]
        fits = wildcard_test(pattern.text)

        def tagged(index: Index) -> list[Span]:
            return sorted(
                (position, position)
                for (token_kind, text), positions in index.tagged.items()
                if token_kind is kind and fits(text)
                for position in positions
            )

        return tagged
    if isinstance(node, s.Or):
        finders = tuple(_finder(operand) for operand in node.operands)
        return lambda index: sorted({span for find in finders for span in find(index)})
    if isinstance(node, s.Near):
        return _near(node)
    raise TypeError(f"{type(node).__name__} has no position in the text")  # the parser refuses it


def _near(node: s.Near) -> Finder:
    find_left, find_right = _finder(node.left), _finder(node.right)
    distance, ordered = node.distance, node.ordered

    def near(index: Index) -> list[Span]:
        lefts = find_left(index)[:NEAR_PLACES]
        if not lefts:
            return []
        rights = find_right(index)[:NEAR_PLACES]
        if not rights:
            return []
        by_start = sorted(rights)
        starts = [span[0] for span in by_start]
        by_end = sorted(rights, key=lambda span: span[1])
        ends = [span[1] for span in by_end]
        result: set[Span] = set()
        for left in lefts:
            # Right after left: starts from left's end + 1 to + 1 + distance.
            for right in by_start[
                bisect_left(starts, left[1] + 1) : bisect_right(starts, left[1] + 1 + distance)
            ]:
                result.add((left[0], max(left[1], right[1])))
            if not ordered:
                # Right before left: ends from left's start - 1 - distance to - 1.
                low, high = bisect_left(ends, left[0] - 1 - distance), bisect_right(ends, left[0] - 1)
                for right in by_end[low:high]:
                    result.add((min(left[0], right[0]), max(left[1], right[1])))
        return sorted(result)

    return near
