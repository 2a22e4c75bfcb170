"""CSV for spreadsheets, guarded against formula injection (OWASP "CSV injection").

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return, or the full-width
forms some spreadsheets read as the ASCII ones) as a formula: such a cell gets a ' in front, which
the spreadsheet shows as text. Used by every CSV download (listening mentions, the audit trail, the
access review).

`reversible=True` (audit exports, which must stay verifiable) also guards a cell that starts with '
itself, so that taking one leading ' away always gives the exact value back; it also keeps NUL
characters, which the plain form drops.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
REVERSIBLE_START = (*FORMULA_START, "'")


def cell(value: object, *, reversible: bool = False) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        if reversible:
            return "'" + value if value.startswith(REVERSIBLE_START) else value
        value = value.replace("\x00", "")
        if value.startswith(FORMULA_START):
            return "'" + value
    return value


def unguard(text: str) -> str:
    """A reversible cell's value."""
    return text[1:] if text.startswith("'") else text


class Echo:
    """csv.writer writes to it; a streamed response takes what it returns."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Iterable[object], rows: Iterable[Iterable[object]], *, reversible: bool = False
) -> Iterator[str]:
    """A CSV file, line by line, for a StreamingHttpResponse: a byte order mark first, so that
    spreadsheets read UTF-8 (accents, emoji) correctly."""
    writer = csv.writer(Echo())
    yield "\ufeff"
    yield writer.writerow([cell(value, reversible=reversible) for value in header])
    for row in rows:
        yield writer.writerow([cell(value, reversible=reversible) for value in row])
