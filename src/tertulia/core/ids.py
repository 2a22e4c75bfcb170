"""Parsing ids that arrive as text (form fields, headers, cursors, remote ids)."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest value a BigAutoField (and PostgreSQL bigint) holds


def parse_id(raw: object) -> int | None:
    """A positive database id, or None.

    `str.isdigit()` alone is not enough: it accepts Unicode digits such as "²" that
    `int()` refuses, and numbers too large for the database.
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 19:
            return None
        value = int(text)
    else:
        return None
    return value if 1 <= value <= MAX_ID else None
