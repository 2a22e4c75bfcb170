"""Queries compiled to closures over a per-post index: the exact step after the prefilter.

Same meaning as query/reference.py, computed differently: words are found by dictionary lookup
instead of a walk over the tokens, booleans short-circuit, and NEAR pairs spans through sorted
lists instead of trying every pair.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from tertulia.listening.query import syntax as s
from tertulia.listening.query.document import Prepared, TokenKind
from tertulia.listening.query.reference import Span, field_matches, pattern_regex

Test = Callable[["Index"], bool]
Finder = Callable[["Index"], list[Span]]


@dataclass(slots=True)
class Index:
    """Where each word is in one post, built once and shared by all its candidate queries."""

    post: Prepared
    positions: dict[str, list[int]] = field(default_factory=dict)  # any kind, by text
    tagged: dict[tuple[TokenKind, str], list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, post: Prepared) -> Index:
        index = cls(post)
        positions, tagged = index.positions, index.tagged
        for position, (text, kind) in enumerate(post.tokens):
            positions.setdefault(text, []).append(position)
            if kind:
                tagged.setdefault((kind, text), []).append(position)
        return index


def compile_query(root: s.Node) -> Test:
    return _test(root)


def _test(node: s.Node) -> Test:
    if isinstance(node, s.Or):
        tests = tuple(_test(operand) for operand in node.operands)
        return lambda index: any(test(index) for test in tests)
    if isinstance(node, s.And):
        tests = tuple(_test(operand) for operand in node.operands)
        return lambda index: all(test(index) for test in tests)
    if isinstance(node, s.Not):
        inner = _test(node.operand)
        return lambda index: not inner(index)
    if isinstance(node, s.Followers):
        holds = node.holds
        return lambda index: holds(index.post.followers)
    if isinstance(node, s.FieldIs):
        field_node = node
        return lambda index: field_matches(field_node, index.post)
    if isinstance(node, s.Words) and len(node.patterns) == 1 and not node.patterns[0].is_wildcard:
        text = node.patterns[0].text
        return lambda index: text in index.positions
    find = _finder(node)
    return lambda index: bool(find(index))


def _word_positions(pattern: s.Pattern) -> Callable[[Index], list[int]]:
    if not pattern.is_wildcard:
        text = pattern.text
        return lambda index: index.positions.get(text, [])
    fullmatch = pattern_regex(pattern.text).fullmatch

    def wildcard(index: Index) -> list[int]:
        found: list[int] = []
        for text, positions in index.positions.items():
            if fullmatch(text) is not None:
                found.extend(positions)
        return sorted(found)

    return wildcard


def _finder(node: s.Node) -> Finder:
    if isinstance(node, s.Words):
        first = _word_positions(node.patterns[0])
        rest = [
            (offset, pattern.text, None if not pattern.is_wildcard else pattern_regex(pattern.text).fullmatch)
            for offset, pattern in enumerate(node.patterns[1:], start=1)
        ]
        width = len(node.patterns)

        def words(index: Index) -> list[Span]:
            tokens = index.post.tokens
            spans: list[Span] = []
            for start in first(index):
                if start + width > len(tokens):
                    continue
                for offset, text, fullmatch in rest:
                    token = tokens[start + offset][0]
                    if (token != text) if fullmatch is None else (fullmatch(token) is None):
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
        fullmatch = pattern_regex(pattern.text).fullmatch

        def tagged(index: Index) -> list[Span]:
            return sorted(
                (position, position)
                for (token_kind, text), positions in index.tagged.items()
                if token_kind is kind and fullmatch(text) is not None
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
        lefts = find_left(index)
        if not lefts:
            return []
        rights = find_right(index)
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
