"""A per-minute allowance in the shared cache: for the few requests that cost seconds of a worker
(fetching a link, drawing a PDF), so one person's clicks or script cannot queue everyone else.

Counted per calendar minute (a fixed window: simple, and a burst at a minute's edge costs at most
twice the allowance). With Redis the count is shared by every worker and exact. The embedded
default's file cache is shared by the processes of one machine, but its increment is not atomic:
two requests at the same instant may both pass, so there the allowance is approximate, which is
enough to stop a script or a held-down key.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone


def allow(scope: str, who: object, per_minute: int) -> bool:
    """Whether `who` may do one more `scope` this minute (and count it if so)."""
    key = f"rate:{scope}:{who}:{current_minute()}"
    cache.add(key, 0, 120)
    try:
        return cache.incr(key) <= per_minute
    except ValueError:  # evicted between add and incr: let it through rather than refuse wrongly
        return True


def current_minute() -> str:
    return f"{timezone.now():%Y%m%d%H%M}"
