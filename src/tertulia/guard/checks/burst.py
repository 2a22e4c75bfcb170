"""A burst: many items in a few minutes, beyond the usual rate.

Two views. The person: items they sent or scheduled in the last 10 minutes (the one being checked
included). The channel: items going out on it within 10 minutes of this one's time. Each is
compared with its usual rate, the average count per 10-minute window in which there was any
activity over the last 14 days: a burst is more than three times that, and never less than a floor
(the floors differ for posts and replies: people answer many replies in a row).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tertulia.guard.checks.findings import BURST, Finding

WINDOW_MINUTES = 10
HISTORY_DAYS = 14
MULTIPLIER = 3.0
# Items in one window that are never a burst by themselves.
PERSON_FLOOR = {"post": 8, "reply": 30}
CHANNEL_FLOOR = {"post": 5, "reply": 40}


@dataclass(frozen=True)
class Rate:
    """Items in the current window, and the history: items and active windows before it."""

    recent: int
    items: int
    windows: int

    @property
    def usual(self) -> float:
        return self.items / self.windows if self.windows else 0.0


def limit(rate: Rate, floor: int) -> int:
    """The most items a window may hold before it is a burst."""
    return max(floor, math.ceil(MULTIPLIER * rate.usual))


def person_burst(rate: Rate, kind: str) -> Finding | None:
    most = limit(rate, PERSON_FLOOR.get(kind, PERSON_FLOOR["post"]))
    if rate.recent <= most:
        return None
    return Finding("burst_person", BURST, {"count": rate.recent, "minutes": WINDOW_MINUTES, "usual": most})


def channel_burst(rate: Rate, kind: str, handle: str) -> Finding | None:
    most = limit(rate, CHANNEL_FLOOR.get(kind, CHANNEL_FLOOR["post"]))
    if rate.recent <= most:
        return None
    return Finding(
        "burst_channel",
        BURST,
        {"count": rate.recent, "minutes": WINDOW_MINUTES, "usual": most, "handle": handle},
    )
