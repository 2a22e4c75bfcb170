"""The reference evaluator: the query language's meaning, written to be obviously right, not fast.

It walks the post's tokens for every word of the query. The matcher (listening/matcher) must give
exactly the same answers much faster; a property-based test holds it to that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from tertulia.listening.query import syntax as s
from tertulia.listening.query.document import Prepared, TokenKind

Span = tuple[int, int]  # first and last token of a match
# NEAR looks at the first this-many places where each of its sides is found in a post (in text
# order). Without a bound, a word repeated thousands of times under chained NEARs makes millions of
# pairs; real posts never come near it, and a post that does still matches on its first places.
NEAR_PLACES = 200


@lru_cache(maxsize=4096)
def pattern_regex(text: str) -> re.Pattern[str]:
    """`*` is any run of characters (none too), `?` exactly one; the rest is literal."""
    parts = [".*" if char == "*" else "." if char == "?" else re.escape(char) for char in text]
    return re.compile("".join(parts), re.S)


def pattern_matches(pattern: s.Pattern, value: str) -> bool:
    if not pattern.is_wildcard:
        return value == pattern.text
    return pattern_regex(pattern.text).fullmatch(value) is not None


PatternMatches = Callable[[s.Pattern, str], bool]


def site_matches(pattern: s.Pattern, host: str, fits: PatternMatches = pattern_matches) -> bool:
    """site:example.com is example.com and any name under it (blog.example.com)."""
    if not host:
        return False
    labels = host.split(".")
    return any(fits(pattern, ".".join(labels[index:])) for index in range(len(labels)))


def matches(node: s.Node, post: Prepared) -> bool:
    if isinstance(node, s.Or):
        return any(matches(operand, post) for operand in node.operands)
    if isinstance(node, s.And):
        return all(matches(operand, post) for operand in node.operands)
    if isinstance(node, s.Not):
        return not matches(node.operand, post)
    if isinstance(node, s.Followers):
        return node.holds(post.followers)
    if isinstance(node, s.FieldIs):
        return field_matches(node, post)
    return bool(spans(node, post))


def field_matches(node: s.FieldIs, post: Prepared, fits: PatternMatches = pattern_matches) -> bool:
    """`fits` is how a pattern is tried on a value: the definition here, a faster equal one in the matcher."""
    if node.field is s.Field.SITE:
        return site_matches(node.pattern, post.host, fits)
    value = {
        s.Field.AUTHOR: post.author,
        s.Field.LANG: post.lang,
        s.Field.NETWORK: post.network,
        s.Field.CHANNEL: post.channel,
    }[node.field]
    return bool(value) and fits(node.pattern, value)


def spans(node: s.Node, post: Prepared) -> set[Span]:
    tokens = post.tokens
    if isinstance(node, s.Words):
        width = len(node.patterns)
        return {
            (start, start + width - 1)
            for start in range(len(tokens) - width + 1)
            if all(
                pattern_matches(pattern, tokens[start + offset][0])
                for offset, pattern in enumerate(node.patterns)
            )
        }
    if isinstance(node, s.Tagged):
        kind = TokenKind.HASHTAG if node.tag is s.Tag.HASHTAG else TokenKind.MENTION
        return {
            (index, index)
            for index, (text, token_kind) in enumerate(tokens)
            if token_kind is kind and pattern_matches(node.pattern, text)
        }
    if isinstance(node, s.Or):
        found: set[Span] = set()
        for operand in node.operands:
            found |= spans(operand, post)
        return found
    if isinstance(node, s.Near):
        result: set[Span] = set()
        rights = sorted(spans(node.right, post))[:NEAR_PLACES]
        for left in sorted(spans(node.left, post))[:NEAR_PLACES]:
            for right in rights:
                if near(left, right, node.distance, node.ordered):
                    result.add((min(left[0], right[0]), max(left[1], right[1])))
        return result
    raise TypeError(f"{type(node).__name__} has no position in the text")  # the parser refuses it


def near(left: Span, right: Span, distance: int, ordered: bool) -> bool:
    """At most `distance` words between the two, which must not overlap; `ordered`: left first."""
    if right[0] > left[1]:
        return right[0] - left[1] - 1 <= distance
    if not ordered and left[0] > right[1]:
        return left[0] - right[1] - 1 <= distance
    return False
