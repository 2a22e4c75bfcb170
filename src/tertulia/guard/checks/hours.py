"""An hour outside the brand's pattern.

The pattern is the brand's own sends over the last 12 weeks, counted per hour of the week in the
brand's time zone (168 cells). It says nothing until there are enough of them (50 sends); then an
hour fires when the hour itself and the hours on each side of it, that weekday, hold fewer than
1 send in 100 (at least: none).
"""

from __future__ import annotations

from collections.abc import Mapping

from tertulia.guard.checks.findings import ODD_HOUR, Finding

MIN_HISTORY = 50
RARE_SHARE = 0.01


def slot(weekday: int, hour: int) -> int:
    """The cell of an hour of the week: Monday 00:00 is 0, Sunday 23:00 is 167."""
    return (weekday % 7) * 24 + (hour % 24)


def neighbourhood(cell: int) -> list[int]:
    return [(cell - 1) % 168, cell, (cell + 1) % 168]


def hour_finding(histogram: Mapping[int, int], weekday: int, hour: int) -> Finding | None:
    """`histogram`: sends per cell (see `slot`); `weekday` 0 Monday … 6 Sunday, in the brand's zone."""
    total = sum(histogram.values())
    if total < MIN_HISTORY:
        return None
    sends = sum(histogram.get(cell, 0) for cell in neighbourhood(slot(weekday, hour)))
    if sends >= max(1, total * RARE_SHARE):
        return None
    return Finding("odd_hour", ODD_HOUR, {"weekday": weekday, "hour": hour, "sends": sends, "total": total})
