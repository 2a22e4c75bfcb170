"""Retention of the per-minute counts (crisis.Bucket): one row per watch and minute with traffic, about
430,000 a day at 300 watches, so old ones are deleted by an hourly job (tertulia.crisis.tasks).

What may go, and what must stay:

- The detector learns from the last `HISTORY_DAYS` (28) days only; buckets older than
  `TERTULIA_CRISIS_BUCKET_DAYS` days (default 35: those 28 and a margin) are deleted.
- The crisis room reads the last hour only.
- The post-incident report is stored on `Crisis.report` when the crisis closes, but it is composed again
  from the buckets when someone asks to write it again from the records (`report.rewrite_report`), and
  when the stored text is empty (the write at close failed, or people emptied it): the web page, the
  editor, the API and the download then call `compose_report`. So the brand-watch buckets inside any
  crisis's window are kept for as long as the crisis exists: a few hours of a few watches per crisis,
  against a report whose numbers would otherwise silently drop to zero.

Surges (crisis.Surge) are small rows and are kept.

Deletion goes by primary keys of a limited slice, one short statement at a time (autocommit), so
neither SQLite's write lock nor a PostgreSQL transaction is held for long while the detector counts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tertulia.crisis.detection.counting import HISTORY_DAYS
from tertulia.crisis.models import Bucket, Crisis, Watch, WatchKind

DEFAULT_DAYS = 35
# The baseline reads HISTORY_DAYS back from the current hour (floored): a day more keeps every minute
# it may read, whatever an operator sets; fewer days would make the detector learn from a cut history.
MIN_DAYS = HISTORY_DAYS + 1
# The report's window starts at the surge or the alert (report._window); the buckets of the two hours
# before crisis mode are kept as well, so a report recomputed later still shows the rise.
BEFORE_CRISIS = timedelta(hours=2)

# (brand id, None for an organization-wide crisis; start; end) per organization.
Windows = dict[int, list[tuple[int | None, datetime, datetime]]]


def retention_days() -> int:
    days = int(getattr(settings, "TERTULIA_CRISIS_BUCKET_DAYS", DEFAULT_DAYS))
    return max(days, MIN_DAYS)


def _crisis_windows(cutoff: datetime, now: datetime) -> Windows:
    """The windows of the crises that reach back before `cutoff` (the others protect nothing old)."""
    crises = Crisis.objects.filter(
        Q(opened_at__lt=cutoff + BEFORE_CRISIS)
        | Q(alert__raised_at__lt=cutoff)
        | Q(alert__surge__started_at__lt=cutoff)
    ).values_list(
        "organization_id",
        "brand_id",
        "opened_at",
        "closed_at",
        "alert__raised_at",
        "alert__surge__started_at",
    )
    windows: Windows = defaultdict(list)
    for org_id, brand_id, opened_at, closed_at, raised_at, surge_at in crises:
        start = min(moment for moment in (opened_at - BEFORE_CRISIS, raised_at, surge_at) if moment)
        windows[org_id].append((brand_id, start.replace(second=0, microsecond=0), closed_at or now))
    return windows


def _is_kept(minute: datetime, watch: tuple[int, int] | None, windows: Windows) -> bool:
    """Whether a report may still read this bucket: a brand watch's minute within one of its crises."""
    if watch is None:  # not a brand watch: reports and the room never read it
        return False
    org_id, brand_id = watch
    return any(
        (scope is None or scope == brand_id) and start <= minute <= end
        for scope, start, end in windows.get(org_id, ())
    )


def prune_buckets(now: datetime | None = None, batch: int = 5000) -> int:
    """Delete the buckets older than the retention, except those a crisis report reads; returns how many
    were deleted. Safe to run often and on several workers at once (a row deleted twice is a no-op)."""
    now = now or timezone.now()
    batch = max(1, batch)
    cutoff = now - timedelta(days=retention_days())
    windows = _crisis_windows(cutoff, now)
    brand_watches = {
        pk: (org_id, brand_id)
        for pk, org_id, brand_id in Watch.objects.filter(kind=WatchKind.BRAND).values_list(
            "pk", "organization_id", "brand_id"
        )
    }
    deleted = 0
    after = 0
    while True:
        # Keyset over the primary key: the kept rows are stepped over, never read again in this run.
        rows = list(
            Bucket.objects.filter(minute__lt=cutoff, pk__gt=after)
            .order_by("pk")
            .values_list("pk", "watch_id", "minute")[:batch]
        )
        if not rows:
            return deleted
        after = rows[-1][0]
        doomed = [
            pk for pk, watch_id, minute in rows if not _is_kept(minute, brand_watches.get(watch_id), windows)
        ]
        if doomed:
            deleted += Bucket.objects.filter(pk__in=doomed).delete()[0]
