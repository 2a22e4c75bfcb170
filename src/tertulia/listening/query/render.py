"""Show a parsed query: as an indented outline (`tertulia query check`) or as plain data (the API)."""

from __future__ import annotations

from typing import Any

from tertulia.listening.query import syntax as s


def as_data(node: s.Node) -> dict[str, Any]:
    """Plain JSON-able data: what the validation endpoint returns, stable for clients."""
    if isinstance(node, s.Words):
        kind = "phrase" if len(node.patterns) > 1 or node.quoted else "word"
        return {"type": kind, "words": [pattern.text for pattern in node.patterns], "position": node.start}
    if isinstance(node, s.Tagged):
        kind = "hashtag" if node.tag is s.Tag.HASHTAG else "mention"
        return {"type": kind, "value": node.pattern.text, "position": node.start}
    if isinstance(node, s.FieldIs):
        return {
            "type": "field",
            "field": node.field.value,
            "value": node.pattern.text,
            "position": node.start,
        }
    if isinstance(node, s.Followers):
        return {
            "type": "followers",
            "comparison": node.comparison.value,
            "count": node.count,
            "position": node.start,
        }
    if isinstance(node, s.Near):
        return {
            "type": "near",
            "distance": node.distance,
            "ordered": node.ordered,
            "left": as_data(node.left),
            "right": as_data(node.right),
            "position": node.start,
        }
    if isinstance(node, s.Not):
        return {"type": "not", "operand": as_data(node.operand), "position": node.start}
    kind = "and" if isinstance(node, s.And) else "or"
    return {"type": kind, "operands": [as_data(operand) for operand in node.operands], "position": node.start}


def label(node: s.Node) -> str:
    if isinstance(node, s.Words):
        words = " ".join(pattern.text for pattern in node.patterns)
        return f'phrase "{words}"' if len(node.patterns) > 1 or node.quoted else f"word {words}"
    if isinstance(node, s.Tagged):
        return f"{'hashtag' if node.tag is s.Tag.HASHTAG else 'mention'} {node.tag.value}{node.pattern.text}"
    if isinstance(node, s.FieldIs):
        return f"{node.field.value}: {node.pattern.text}"
    if isinstance(node, s.Followers):
        return f"followers {node.comparison.value} {node.count:,}"
    if isinstance(node, s.Near):
        return f"NEAR/{node.distance}{'f' if node.ordered else ''}"
    return {s.Not: "NOT", s.And: "AND", s.Or: "OR"}[type(node)]


def children(node: s.Node) -> tuple[s.Node, ...]:
    if isinstance(node, s.And | s.Or):
        return node.operands
    if isinstance(node, s.Not):
        return (node.operand,)
    if isinstance(node, s.Near):
        return (node.left, node.right)
    return ()


def outline(node: s.Node) -> list[str]:
    """One line per node, children indented under their operator with box-drawing branches."""
    lines = [label(node)]
    stack: list[tuple[s.Node, str, bool]] = [
        (child, "", index == len(children(node)) - 1)
        for index, child in reversed(list(enumerate(children(node))))
    ]
    while stack:  # iterative: a query may nest 32 deep, and we never recurse on user input here
        current, prefix, last = stack.pop()
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{label(current)}")
        below = children(current)
        inner = prefix + ("   " if last else "│  ")
        for index in range(len(below) - 1, -1, -1):
            stack.append((below[index], inner, index == len(below) - 1))
    return lines
