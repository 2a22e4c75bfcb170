"""Per-minute counts of what each watch follows, into crisis.Bucket rows.

A brand watch counts the inbound inbox messages of the brand's channels by the minute the network says
they were written (`sent_at`); a query watch counts a listening query's matches by `published_at`.
Each pass recounts the minutes from `LATE_MINUTES` before `Watch.counted_until` up to the last complete
minute and *sets* their buckets (never adds), so a pass is idempotent, two passes give the same rows,
and a message that arrives late (a slow poll, a webhook retry) lands in its minute at the next pass.
Messages more than an hour late are not counted: a backfill of history must not look like a surge now.

The caller holds the watch's row lock (tertulia.crisis.detection.run claims it with
SELECT … FOR UPDATE SKIP LOCKED), so two workers never count the same watch at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMinute

from tertulia.core.models import Brand
from tertulia.crisis.models import Bucket, Watch, WatchKind
from tertulia.inbox.models import Direction, Message, Sentiment
from tertulia.listening.models import ListeningQuery, QueryMatch

LATE_MINUTES = 60
# A new watch starts from this much history, so the baseline can learn at once from what is stored.
HISTORY_DAYS = 28
# The network's clock may be ahead of ours: a message "sent" slightly after we received it.
CLOCK_SKEW = timedelta(minutes=5)


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def ensure_watches() -> int:
    """A brand watch for every brand, a query watch for every active listening query; the watches of
    queries no longer active are deactivated (their history stays). Returns how many were created."""
    created = 0
    watched = set(Watch.objects.filter(kind=WatchKind.BRAND).values_list("brand_id", flat=True))
    missing = [
        Watch(organization_id=org_id, brand_id=brand_id, kind=WatchKind.BRAND)
        for brand_id, org_id in Brand.objects.exclude(pk__in=watched).values_list("pk", "organization_id")
    ]
    queries = dict(Watch.objects.filter(kind=WatchKind.QUERY).values_list("query_id", "is_active"))
    active = ListeningQuery.objects.filter(is_active=True)
    missing += [
        Watch(organization_id=org_id, brand_id=brand_id, kind=WatchKind.QUERY, query_id=query_id)
        for query_id, brand_id, org_id in active.exclude(pk__in=list(queries)).values_list(
            "pk", "brand_id", "organization_id"
        )
    ]
    if missing:
        created = len(Watch.objects.bulk_create(missing, ignore_conflicts=True))
    active_ids = set(active.values_list("pk", flat=True))
    stale = [query_id for query_id, is_active in queries.items() if is_active and query_id not in active_ids]
    revived = [
        query_id for query_id, is_active in queries.items() if not is_active and query_id in active_ids
    ]
    if stale:
        Watch.objects.filter(kind=WatchKind.QUERY, query_id__in=stale).update(is_active=False)
    if revived:
        Watch.objects.filter(kind=WatchKind.QUERY, query_id__in=revived).update(is_active=True)
    return created


def count(watch: Watch, now: datetime, *, save: bool = True) -> int:
    """Recount the watch's recent minutes (see the module's docstring); returns how many buckets changed.
    Sets `counted_until` on the watch (and saves it unless the caller saves the watch itself)."""
    end = floor_minute(now)  # exclusive: the current minute is not complete
    oldest = end - timedelta(days=HISTORY_DAYS)
    if watch.counted_until is None:
        start = oldest
    else:
        start = max(floor_minute(watch.counted_until) - timedelta(minutes=LATE_MINUTES), oldest)
    if start >= end:
        return 0
    counted = {minute: values for minute, values in _counts(watch, start, end).items() if values[0]}
    # Set, never add (under the watch's lock, in the caller's transaction), so counting twice gives the
    # same rows; only what differs is written: usually the one new minute.
    stored = {
        floor_minute(minute): (pk, volume, negative)
        for pk, minute, volume, negative in Bucket.objects.filter(
            watch=watch, minute__gte=start, minute__lt=end
        ).values_list("pk", "minute", "volume", "negative")
    }
    new = [
        Bucket(watch=watch, minute=minute, volume=volume, negative=negative)
        for minute, (volume, negative) in counted.items()
        if minute not in stored
    ]
    changed = [
        Bucket(pk=stored[minute][0], watch=watch, minute=minute, volume=volume, negative=negative)
        for minute, (volume, negative) in counted.items()
        if minute in stored and stored[minute][1:] != (volume, negative)
    ]
    # Minutes that no longer have anything (a message deleted from the database) lose their bucket.
    gone = [pk for minute, (pk, _, _) in stored.items() if minute not in counted]
    if new:
        Bucket.objects.bulk_create(new, batch_size=1000)
    if changed:
        Bucket.objects.bulk_update(changed, ["volume", "negative"], batch_size=1000)
    if gone:
        Bucket.objects.filter(pk__in=gone).delete()
    watch.counted_until = end - timedelta(minutes=1)
    if save:
        Watch.objects.filter(pk=watch.pk).update(counted_until=watch.counted_until)
    return len(new) + len(changed) + len(gone)


def _counts(watch: Watch, start: datetime, end: datetime) -> dict[datetime, tuple[int, int]]:
    negative = Q(sentiment=Sentiment.NEGATIVE)
    rows: Iterable[dict[str, Any]]
    if watch.kind == WatchKind.QUERY:
        rows = (
            QueryMatch.objects.filter(query_id=watch.query_id, published_at__gte=start, published_at__lt=end)
            .annotate(bucket=TruncMinute("published_at", tzinfo=UTC))
            .values("bucket")
            .annotate(volume=Count("id"), negative=Count("id", filter=negative))
        )
    else:
        rows = (
            Message.objects.filter(
                brand_id=watch.brand_id,
                direction=Direction.INBOUND,
                # The index (brand, -received_at) narrows the scan to what arrived since `start`.
                received_at__gte=start - CLOCK_SKEW,
                sent_at__gte=start,
                sent_at__lt=end,
            )
            .annotate(bucket=TruncMinute("sent_at", tzinfo=UTC))
            .values("bucket")
            .annotate(volume=Count("id"), negative=Count("id", filter=negative))
        )
    return {floor_minute(row["bucket"]): (row["volume"], row["negative"]) for row in rows}
