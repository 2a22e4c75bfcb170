"""Time zones by name, never an error: a stored name is checked when saved, but a row written
around the forms (an import, a migration, a hostile test) must not turn a page into a 500."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=512)
def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The zone called `name`; `fallback` (UTC) when it is empty or not a known zone."""
    try:
        return ZoneInfo(name or fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)
