"""Daily rollups: a brand's messages, response targets, posts and mentions counted per day.

Days are the brand's calendar days (its time zone). Rolling up a span of days recomputes every row
of it from the source tables in one transaction, so running it again (several workers, a re-run
after a crash, a backfill over days already done) gives the same rows: never a double count. The
audience columns of ChannelDay belong to the collector (tertulia.analytics.collect) and are left as
they are.
"""

from __future__ import annotations

import bisect
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DateField, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from tertulia.analytics.models import (
    FRT_BOUNDS,
    ChannelDay,
    PersonDay,
    PostMetrics,
    QueryDay,
    empty_histogram,
)
from tertulia.core.models import Brand
from tertulia.core.zones import zone
from tertulia.inbox.businesshours import BusinessHours, business_time_between, is_open
from tertulia.inbox.models import Conversation, Direction, Message, ResponseTarget
from tertulia.inbox.sla import hours_of, policy_for
from tertulia.listening.models import QueryMatch
from tertulia.publishing.models import DeliveryTarget, TargetState

logger = logging.getLogger(__name__)

Outcome = ResponseTarget.Outcome
Stage = ResponseTarget.Stage

# A brand open around the clock has no "after hours" of its own: for the team's sake, replies
# between 20:00 and 08:00 local time count as after hours there (docs/analytics.md).
QUIET_HOURS_START = time(20, 0)
QUIET_HOURS_END = time(8, 0)


def zone_of(brand: Brand) -> ZoneInfo:
    return zone(brand.timezone)


def local_day(brand: Brand, at: datetime) -> date:
    return at.astimezone(zone_of(brand)).date()


def day_start(brand: Brand, day: date) -> datetime:
    """The instant the brand's `day` begins (midnight in its time zone, whatever the DST)."""
    return datetime.combine(day, time(0, 0), tzinfo=zone_of(brand))


def frt_bucket(minutes: float) -> int:
    """The index of the histogram bucket a first response time (in minutes) falls in."""
    return bisect.bisect_left(FRT_BOUNDS, minutes)


@dataclass
class _Channel:
    messages_in: int = 0
    messages_out: int = 0
    conversations_new: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    first_responses: list[int] = field(default_factory=empty_histogram)
    posts_published: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    impressions: int = 0
    engagements_with_impressions: int = 0


@dataclass
class _Person:
    replies: int = 0
    conversations: set[int] = field(default_factory=set)
    after_hours: int = 0
    weekend: int = 0
    first_responses: list[int] = field(default_factory=empty_histogram)


def roll_up(brand: Brand, first: date, last: date, *, now: datetime | None = None) -> None:
    """Recompute the brand's rows for the days `first` to `last` (both included)."""
    now = now or timezone.now()
    zone = zone_of(brand)
    start, end = day_start(brand, first), day_start(brand, last + timedelta(days=1))
    by_day = TruncDate("sent_at", tzinfo=zone)
    channels: dict[tuple[int, date], _Channel] = defaultdict(_Channel)
    people: dict[tuple[int, int, date], _Person] = defaultdict(_Person)  # (user, channel, day)

    _count_messages(brand, start, end, by_day, channels)
    _count_conversations(brand, start, end, zone, channels)
    policy = policy_for(brand)
    hours = hours_of(policy)
    _count_targets(brand, start, end, zone, now, hours if policy.business_hours else None, channels, people)
    _count_replies(brand, start, end, zone, hours if policy.business_hours else None, people)
    _count_posts(brand, start, end, zone, channels)
    query_rows = _count_mentions(brand, start, end, zone)

    with transaction.atomic():
        _store_channels(brand, first, last, channels, now)
        PersonDay.objects.filter(brand=brand, day__gte=first, day__lte=last).delete()
        PersonDay.objects.bulk_create(
            PersonDay(
                organization_id=brand.organization_id,
                brand=brand,
                user_id=user_id,
                channel_id=channel_id,
                day=day,
                replies=p.replies,
                conversations=len(p.conversations),
                after_hours=p.after_hours,
                weekend=p.weekend,
                first_responses=p.first_responses,
                first_answers=sum(p.first_responses),
            )
            for (user_id, channel_id, day), p in people.items()
        )
        QueryDay.objects.filter(brand=brand, day__gte=first, day__lte=last).delete()
        QueryDay.objects.bulk_create(query_rows)


def _count_messages(
    brand: Brand,
    start: datetime,
    end: datetime,
    by_day: TruncDate,
    channels: dict[tuple[int, date], _Channel],
) -> None:
    rows = (
        Message.objects.filter(brand=brand, sent_at__gte=start, sent_at__lt=end, is_deleted=False)
        .annotate(day=by_day)
        .order_by()
        .values("channel_id", "day", "direction", "sentiment")
        .annotate(n=Count("id"))
    )
    for row in rows:
        bucket = channels[(row["channel_id"], row["day"])]
        if row["direction"] == Direction.OUTBOUND:
            bucket.messages_out += row["n"]
            continue
        bucket.messages_in += row["n"]
        if row["sentiment"] in ("positive", "neutral", "negative"):
            setattr(bucket, row["sentiment"], getattr(bucket, row["sentiment"]) + row["n"])


def _count_conversations(
    brand: Brand, start: datetime, end: datetime, zone: ZoneInfo, channels: dict[tuple[int, date], _Channel]
) -> None:
    rows = (
        Conversation.objects.filter(brand=brand, created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("channel_id", "day")
        .annotate(n=Count("id"))
    )
    for row in rows:
        channels[(row["channel_id"], row["day"])].conversations_new += row["n"]


def _minutes(hours: BusinessHours | None, started: datetime, ended: datetime) -> float:
    if hours is None:  # open around the clock: business time is elapsed time
        return max((ended - started).total_seconds(), 0.0) / 60
    return business_time_between(hours, started, ended).total_seconds() / 60


def _count_targets(
    brand: Brand,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    now: datetime,
    hours: BusinessHours | None,
    channels: dict[tuple[int, date], _Channel],
    people: dict[tuple[int, int, date], _Person],
) -> None:
    """SLA met and breached (sla_report's rules), and first response times, by the day the clock started."""
    answered_by = (
        Message.objects.filter(
            conversation_id=OuterRef("conversation_id"),
            direction=Direction.OUTBOUND,
            sent_at__lte=OuterRef("ended_at"),
        )
        .order_by("-sent_at")
        .values("sent_by_id")[:1]
    )
    targets = (
        ResponseTarget.objects.filter(brand=brand, started_at__gte=start, started_at__lt=end)
        .filter(
            Q(outcome__in=(Outcome.MET, Outcome.BREACHED))
            | Q(outcome=Outcome.RUNNING, paused_at__isnull=True, due_at__lt=now)
            | Q(outcome=Outcome.RUNNING, paused_at__isnull=False, due_at__lt=F("paused_at"))
        )
        .annotate(responder=Subquery(answered_by))
        .values_list("conversation__channel_id", "stage", "outcome", "started_at", "ended_at", "responder")
    )
    for channel_id, stage, outcome, started, ended, responder in targets:
        day = started.astimezone(zone).date()
        bucket = channels[(channel_id, day)]
        if outcome == Outcome.MET:
            bucket.sla_met += 1
        else:  # breached, or running and already late
            bucket.sla_breached += 1
        if stage != Stage.FIRST or outcome == Outcome.RUNNING or ended is None:
            continue
        index = frt_bucket(_minutes(hours, started, ended))
        bucket.first_responses[index] += 1
        if responder is not None:
            people[(responder, channel_id, day)].first_responses[index] += 1


def _count_replies(
    brand: Brand,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    hours: BusinessHours | None,
    people: dict[tuple[int, int, date], _Person],
) -> None:
    replies = Message.objects.filter(
        brand=brand, sent_at__gte=start, sent_at__lt=end, direction=Direction.OUTBOUND, sent_by__isnull=False
    ).values_list("sent_by_id", "channel_id", "conversation_id", "sent_at")
    for user_id, channel_id, conversation_id, sent_at in replies:
        local = sent_at.astimezone(zone)
        person = people[(user_id, channel_id, local.date())]
        person.replies += 1
        person.conversations.add(conversation_id)
        if local.weekday() >= 5:
            person.weekend += 1
        if _after_hours(hours, sent_at, local.time()):
            person.after_hours += 1


def _after_hours(hours: BusinessHours | None, at: datetime, local: time) -> bool:
    if hours is None:
        return local >= QUIET_HOURS_START or local < QUIET_HOURS_END
    return not is_open(hours, at)


def _count_posts(
    brand: Brand, start: datetime, end: datetime, zone: ZoneInfo, channels: dict[tuple[int, date], _Channel]
) -> None:
    sent = (
        DeliveryTarget.objects.filter(
            brand=brand, state=TargetState.SENT, sent_at__gte=start, sent_at__lt=end
        )
        .annotate(day=TruncDate("sent_at", tzinfo=zone))
        .order_by()
        .values("channel_id", "day")
        .annotate(n=Count("id"))
    )
    for row in sent:
        channels[(row["channel_id"], row["day"])].posts_published += row["n"]
    engagement = (
        PostMetrics.objects.filter(brand=brand, sent_at__gte=start, sent_at__lt=end)
        .annotate(day=TruncDate("sent_at", tzinfo=zone, output_field=DateField()))
        .order_by()
        .values("channel_id", "day")
        .annotate(
            likes_=Sum("likes"),
            reposts_=Sum("reposts"),
            replies_=Sum("replies"),
            quotes_=Sum("quotes"),
            impressions_=Sum("impressions"),
            seen_engagement=Sum(
                F("likes") + F("reposts") + F("replies") + F("quotes"), filter=Q(impressions__isnull=False)
            ),
        )
    )
    for row in engagement:
        bucket = channels[(row["channel_id"], row["day"])]
        bucket.likes = row["likes_"] or 0
        bucket.reposts = row["reposts_"] or 0
        bucket.replies = row["replies_"] or 0
        bucket.quotes = row["quotes_"] or 0
        bucket.impressions = row["impressions_"] or 0
        bucket.engagements_with_impressions = row["seen_engagement"] or 0


def _count_mentions(brand: Brand, start: datetime, end: datetime, zone: ZoneInfo) -> list[QueryDay]:
    rows = (
        QueryMatch.objects.filter(query__brand=brand, published_at__gte=start, published_at__lt=end)
        .annotate(day=TruncDate("published_at", tzinfo=zone))
        .order_by()
        .values("query_id", "query__group", "day", "sentiment")
        .annotate(n=Count("id"))
    )
    days: dict[tuple[int, date], QueryDay] = {}
    for row in rows:
        key = (row["query_id"], row["day"])
        if key not in days:
            days[key] = QueryDay(
                organization_id=brand.organization_id,
                brand=brand,
                query_id=row["query_id"],
                group=row["query__group"],
                day=row["day"],
            )
        qd = days[key]
        qd.mentions += row["n"]
        if row["sentiment"] in ("positive", "neutral", "negative"):
            setattr(qd, row["sentiment"], getattr(qd, row["sentiment"]) + row["n"])
    return list(days.values())


_COUNTED = [f.name for f in ChannelDay._meta.get_fields() if f.name not in {"followers", "following"}]
_DERIVED = [
    name for name in _COUNTED if name not in {"id", "organization", "brand", "channel", "day", "computed_at"}
]


def _store_channels(
    brand: Brand, first: date, last: date, channels: dict[tuple[int, date], _Channel], now: datetime
) -> None:
    """Write the counted columns of every (channel, day) of the span; days with nothing become zeros."""
    existing = {
        (row.channel_id, row.day): row
        for row in ChannelDay.objects.select_for_update().filter(brand=brand, day__gte=first, day__lte=last)
    }
    to_create: list[ChannelDay] = []
    to_update: list[ChannelDay] = []
    for key in set(existing) | set(channels):
        counted = channels.get(key) or _Channel()
        row = existing.get(key) or ChannelDay(
            organization_id=brand.organization_id, brand=brand, channel_id=key[0], day=key[1]
        )
        for name in _DERIVED:
            setattr(row, name, getattr(counted, name))
        row.computed_at = now
        (to_update if row.pk else to_create).append(row)
    # The collector may have created today's row for a quiet channel since the read above.
    ChannelDay.objects.bulk_create(
        to_create,
        update_conflicts=True,
        unique_fields=["channel", "day"],
        update_fields=[*_DERIVED, "computed_at"],
    )
    ChannelDay.objects.bulk_update(to_update, [*_DERIVED, "computed_at"], batch_size=500)


def days_between(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- the periodic job ---------------------------------------------------------------------------------
# Every ROLLUP_EVERY each brand's last RECENT_DAYS are recomputed: today's counts grow, and answers or
# late clocks change the last few days' SLA figures. Older days stay as they were rolled up; a backfill
# (`tertulia manage analytics_rollup --days N`) recomputes further back.
ROLLUP_EVERY = timedelta(minutes=10)
RECENT_DAYS = 3


def roll_up_due(now: datetime | None = None, limit: int = 50) -> int:
    """Roll up the recent days of the brands that are due and that this worker wins. Returns how many."""
    from tertulia.analytics.models import BrandRollup

    now = now or timezone.now()
    missing = Brand.objects.filter(analytics_rollup__isnull=True).values_list("pk", flat=True)
    BrandRollup.objects.bulk_create(
        [BrandRollup(brand_id=pk, next_at=now) for pk in missing], ignore_conflicts=True
    )
    done = 0
    due = (
        BrandRollup.objects.filter(next_at__lte=now).order_by("next_at").values_list("pk", "next_at")[:limit]
    )
    for pk, next_at in due:
        if not BrandRollup.objects.filter(pk=pk, next_at=next_at).update(next_at=now + ROLLUP_EVERY):
            continue  # another worker took it
        claim = BrandRollup.objects.select_related("brand").get(pk=pk)
        today = local_day(claim.brand, now)
        try:
            roll_up(claim.brand, today - timedelta(days=RECENT_DAYS - 1), today, now=now)
            # Post figures keep being collected for POST_WINDOW days: their engagement moves further back.
            refresh_engagement(claim.brand, today - POST_WINDOW, today - timedelta(days=RECENT_DAYS), now)
        except Exception:  # one brand's failure must not stop the others; it is due again next round
            logger.exception("analytics rollup of brand %s failed", claim.brand_id)
            continue
        BrandRollup.objects.filter(pk=pk).update(last_done_at=now)
        done += 1
    return done


POST_WINDOW = timedelta(days=30)  # as tertulia.analytics.collect.POST_WINDOW
_ENGAGEMENT = [
    "posts_published",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "impressions",
    "engagements_with_impressions",
]


def refresh_engagement(brand: Brand, first: date, last: date, now: datetime) -> None:
    """Recount only the publishing columns of the days `first` to `last` (posts and their figures)."""
    if last < first:
        return
    zone = zone_of(brand)
    channels: dict[tuple[int, date], _Channel] = defaultdict(_Channel)
    _count_posts(brand, day_start(brand, first), day_start(brand, last + timedelta(days=1)), zone, channels)
    with transaction.atomic():
        existing = {
            (row.channel_id, row.day): row
            for row in ChannelDay.objects.select_for_update().filter(
                brand=brand, day__gte=first, day__lte=last
            )
        }
        rows = []
        for key in set(existing) | set(channels):
            counted = channels.get(key) or _Channel()
            row = existing.get(key) or ChannelDay(
                organization_id=brand.organization_id, brand=brand, channel_id=key[0], day=key[1]
            )
            for name in _ENGAGEMENT:
                setattr(row, name, getattr(counted, name))
            rows.append(row)
        ChannelDay.objects.bulk_create(
            [r for r in rows if r.pk is None],
            update_conflicts=True,
            unique_fields=["channel", "day"],
            update_fields=_ENGAGEMENT,
        )
        ChannelDay.objects.bulk_update([r for r in rows if r.pk is not None], _ENGAGEMENT, batch_size=500)
