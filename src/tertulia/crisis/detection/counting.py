"""Per-minute counts of what each watch follows, into crisis.Bucket rows.

A brand watch counts the inbound inbox messages of the brand's channels by the minute the network says
they were written (`sent_at`); a query watch counts a listening query's matches by `published_at`. Each
minute has its messages, the negative ones, and how many different people wrote them (by the network's
author id, else the handle; a message with neither counts as one person).
Each pass recounts the minutes from `LATE_MINUTES` before `Watch.counted_until` up to the minute under way
(as far as it has gone: its bucket is set again by the next pass) and *sets* their buckets (never adds),
so a pass is idempotent, two passes give the same rows, and a message that arrives late (a slow poll, a
webhook retry) lands in its minute at the next pass. The passes within a minute recount only its last
two minutes (`late_minutes`): the hour is recounted once a minute.
Messages more than an hour late are not counted: a backfill of history must not look like a surge now.

The caller holds the watch's row lock (tertulia.crisis.detection.run claims it with
SELECT … FOR UPDATE SKIP LOCKED), so two workers never count the same watch at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import CharField, Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Coalesce, NullIf, TruncMinute

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
    queries no longer active are deactivated (their history stays). Returns how many were created.
    Runs every minute: each step is one query that finds nothing when nothing changed (NOT EXISTS
    and joins, never the ids of every watch in Python)."""
    brand_watched = Watch.objects.filter(kind=WatchKind.BRAND, brand_id=OuterRef("pk"))
    missing = [
        Watch(organization_id=org_id, brand_id=brand_id, kind=WatchKind.BRAND)
        for brand_id, org_id in Brand.objects.filter(~Exists(brand_watched)).values_list(
            "pk", "organization_id"
        )
    ]
    query_watched = Watch.objects.filter(kind=WatchKind.QUERY, query_id=OuterRef("pk"))
    missing += [
        Watch(organization_id=org_id, brand_id=brand_id, kind=WatchKind.QUERY, query_id=query_id)
        for query_id, brand_id, org_id in ListeningQuery.objects.filter(is_active=True)
        .filter(~Exists(query_watched))
        .values_list("pk", "brand_id", "organization_id")
    ]
    created = len(Watch.objects.bulk_create(missing, ignore_conflicts=True)) if missing else 0
    Watch.objects.filter(kind=WatchKind.QUERY, is_active=True, query__is_active=False).update(is_active=False)
    Watch.objects.filter(kind=WatchKind.QUERY, is_active=False, query__is_active=True).update(is_active=True)
    return created


def count(watch: Watch, now: datetime, *, save: bool = True, late_minutes: int = LATE_MINUTES) -> int:
    """Recount the watch's recent minutes (see the module's docstring); returns how many buckets changed.
    Sets `counted_until` on the watch to the minute under way (and saves it unless the caller saves the
    watch itself)."""
    end = now  # exclusive: the minute under way is counted up to now
    current = floor_minute(now)
    oldest = current - timedelta(days=HISTORY_DAYS)
    if watch.counted_until is None:
        start = oldest
    else:
        start = max(floor_minute(watch.counted_until) - timedelta(minutes=late_minutes), oldest)
    if start >= end:
        return 0
    counted = {minute: values for minute, values in _counts(watch, start, end).items() if values[0]}
    fields = ["volume", "negative", "people"]
    # Set, never add (under the watch's lock, in the caller's transaction), so counting twice gives the
    # same rows; only what differs is written: usually the one new minute.
    stored = {
        floor_minute(minute): (pk, (volume, negative, people))
        for pk, minute, volume, negative, people in Bucket.objects.filter(
            watch=watch, minute__gte=start, minute__lt=end
        ).values_list("pk", "minute", *fields)
    }
    new = [
        Bucket(watch=watch, minute=minute, volume=volume, negative=negative, people=people)
        for minute, (volume, negative, people) in counted.items()
        if minute not in stored
    ]
    changed = [
        Bucket(
            pk=stored[minute][0], watch=watch, minute=minute, volume=volume, negative=negative, people=people
        )
        for minute, (volume, negative, people) in counted.items()
        if minute in stored and stored[minute][1] != (volume, negative, people)
    ]
    # Minutes that no longer have anything (a message deleted from the database) lose their bucket.
    gone = [pk for minute, (pk, _) in stored.items() if minute not in counted]
    if new:
        Bucket.objects.bulk_create(new, batch_size=1000)
    if changed:
        Bucket.objects.bulk_update(changed, fields, batch_size=1000)
    if gone:
        Bucket.objects.filter(pk__in=gone).delete()
    watch.counted_until = current
    if save:
        Watch.objects.filter(pk=watch.pk).update(counted_until=watch.counted_until)
    return len(new) + len(changed) + len(gone)


def _person(*fields: str) -> Coalesce:
    """Who wrote a row: the first of these fields that is not empty, else the row itself (its id)."""
    return Coalesce(*(NullIf(field, Value("")) for field in fields), Cast("id", CharField()))


def _counts(watch: Watch, start: datetime, end: datetime) -> dict[datetime, tuple[int, int, int]]:
    negative = Q(sentiment=Sentiment.NEGATIVE)
    rows: Iterable[dict[str, Any]]
    if watch.kind == WatchKind.QUERY:
        rows = (
            QueryMatch.objects.filter(query_id=watch.query_id, published_at__gte=start, published_at__lt=end)
            .annotate(bucket=TruncMinute("published_at", tzinfo=UTC))
            .values("bucket")
            .annotate(
                volume=Count("id"),
                negative=Count("id", filter=negative),
                people=Count(_person("mention__author_handle"), distinct=True),
            )
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
            .annotate(
                volume=Count("id"),
                negative=Count("id", filter=negative),
                people=Count(_person("author_remote_id", "author_handle"), distinct=True),
            )
        )
    return {floor_minute(row["bucket"]): (row["volume"], row["negative"], row["people"]) for row in rows}
