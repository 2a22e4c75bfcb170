"""Figures for a brand over a period, read from the daily rollups (never from messages or posts).

`figures(brand, period, channel_ids)` sums the ChannelDay, QueryDay and PersonDay rows of the period
once, and every KPI, chart and table of the dashboards and reports is computed from that sum. How
each KPI is defined where the issue leaves it open is in docs/analytics.md ("Definitions").
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from django.db.models import Count, Q, Sum

from tertulia.analytics.models import FRT_BOUNDS, ChannelDay, PersonDay, QueryDay, empty_histogram
from tertulia.analytics.periods import Period
from tertulia.core.models import Brand, Channel
from tertulia.core.models.brand import Kpi
from tertulia.listening.models import QueryGroup

CHANNEL_COLUMNS = (
    "posts_published",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "impressions",
    "engagements_with_impressions",
    "messages_in",
    "messages_out",
    "conversations_new",
    "positive",
    "neutral",
    "negative",
    "sla_met",
    "sla_breached",
)


@dataclass
class Totals:
    """Sums of ChannelDay columns over some days (and channels)."""

    posts_published: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    impressions: int = 0
    engagements_with_impressions: int = 0
    messages_in: int = 0
    messages_out: int = 0
    conversations_new: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    first_responses: list[int] = field(default_factory=empty_histogram)

    def merge(self, other: Totals) -> None:
        for name in CHANNEL_COLUMNS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        add_histogram(self.first_responses, other.first_responses)

    @property
    def engagements(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes

    @property
    def sla_met_percent(self) -> float | None:
        counted = self.sla_met + self.sla_breached
        return round(100 * self.sla_met / counted, 1) if counted else None

    @property
    def first_response_median(self) -> float | None:
        return histogram_percentile(self.first_responses, 50)

    @property
    def first_response_p90(self) -> float | None:
        return histogram_percentile(self.first_responses, 90)

    @property
    def answered(self) -> int:
        return sum(self.first_responses)

    @property
    def positive_share(self) -> float | None:
        said = self.positive + self.neutral + self.negative
        return round(100 * self.positive / said, 1) if said else None


def add_histogram(into: list[int], histogram: Sequence[int]) -> None:
    if not isinstance(histogram, list | tuple) or len(histogram) != len(into):
        return  # a row from an older layout: skipped rather than mis-added
    into[:] = map(operator.add, into, histogram)


def _totals(counts: Sequence[int | None]) -> Totals:
    """Totals from the database's sums, in CHANNEL_COLUMNS order (a sum over no rows is None)."""
    totals = Totals()
    for name, value in zip(CHANNEL_COLUMNS, counts, strict=True):
        setattr(totals, name, value or 0)
    return totals


def histogram_percentile(histogram: Sequence[int], p: float) -> float | None:
    """The p-th percentile of the minutes a histogram counts, interpolated within its bucket."""
    total = sum(histogram)
    if not total:
        return None
    rank = p / 100 * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= rank:
            low = FRT_BOUNDS[index - 1] if index else 0
            high = FRT_BOUNDS[index] if index < len(FRT_BOUNDS) else FRT_BOUNDS[-1] * 2
            return round(low + (high - low) * max(rank - seen, 0) / count, 1)
        seen += count
    return float(FRT_BOUNDS[-1])


@dataclass
class Audience:
    """A channel's follower counts at the start and end of the period (the nearest readings inside it)."""

    first: int | None = None
    last: int | None = None
    by_day: dict[date, int] = field(default_factory=dict)

    @property
    def growth(self) -> int | None:
        return None if self.first is None or self.last is None else self.last - self.first


@dataclass
class QueryTotals:
    name: str
    group: str
    mentions: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0


@dataclass
class PersonTotals:
    replies: int = 0
    conversations: int = 0
    after_hours: int = 0
    weekend: int = 0
    first_responses: list[int] = field(default_factory=empty_histogram)
    days_worked: int = 0

    @property
    def first_response_median(self) -> float | None:
        return histogram_percentile(self.first_responses, 50)


@dataclass
class Figures:
    brand: Brand
    period: Period
    channel_ids: list[int] | None  # None: every channel of the brand
    total: Totals
    by_day: dict[date, Totals]
    by_channel: dict[int, Totals]
    audience: dict[int, Audience]
    queries: dict[int, QueryTotals]
    mentions_by_day: dict[date, dict[str, int]]  # day -> group -> mentions
    channels: dict[int, Channel]

    @cached_property
    def people(self) -> dict[int, PersonTotals]:
        """Per person, read only when a table asks: the overview, objectives and reports never do, and
        a year of every channel is tens of thousands of person-channel-days."""
        return people_figures(self.brand, self.period, self.channel_ids)

    # ------------------------------------------------------------------ KPIs

    def group_mentions(self, group: str) -> int:
        return sum(q.mentions for q in self.queries.values() if q.group == group)

    @property
    def share_of_voice(self) -> float | None:
        ours, theirs = self.group_mentions(QueryGroup.BRAND), self.group_mentions(QueryGroup.COMPETITOR)
        return round(100 * ours / (ours + theirs), 1) if ours + theirs else None

    @property
    def mention_sentiment(self) -> tuple[int, int, int]:
        brand = [q for q in self.queries.values() if q.group == QueryGroup.BRAND]
        return (
            sum(q.positive for q in brand),
            sum(q.neutral for q in brand),
            sum(q.negative for q in brand),
        )

    @property
    def positive_share(self) -> float | None:
        """Of the brand's mentions (its Brand-group queries); without such queries, of the inbox."""
        positive, neutral, negative = self.mention_sentiment
        said = positive + neutral + negative
        if said:
            return round(100 * positive / said, 1)
        return self.total.positive_share

    @property
    def followers_first(self) -> int:
        return sum(a.first for a in self.audience.values() if a.first is not None and a.last is not None)

    @property
    def followers_last(self) -> int | None:
        known = [a.last for a in self.audience.values() if a.last is not None]
        return sum(known) if known else None

    @property
    def audience_growth(self) -> float | None:
        """Followers gained as a % of those at the start, over channels read at both ends."""
        start = self.followers_first
        if not start:
            return None
        gained = sum(a.growth or 0 for a in self.audience.values())
        return round(100 * gained / start, 2)

    @property
    def engagement_rate(self) -> float | None:
        """Engagement per impression where networks give impressions; else per follower per post."""
        total = self.total
        if total.impressions:
            return round(100 * total.engagements_with_impressions / total.impressions, 2)
        followers = self.followers_last
        if total.posts_published and followers:
            return round(100 * total.engagements / (total.posts_published * followers), 2)
        return None

    def followers_by_day(self) -> dict[date, float | None]:
        """Total followers per day of the period, each channel's last reading carried forward (a day
        the collector missed is not a drop); None before the first reading."""
        totals: dict[date, float | None] = {}
        last: dict[int, int] = {}
        for day in self.period.dates():
            for channel_id, seen in self.audience.items():
                if day in seen.by_day:
                    last[channel_id] = seen.by_day[day]
            totals[day] = float(sum(last.values())) if last else None
        return totals

    def kpi(self, kpi: str) -> float | None:
        match kpi:
            case Kpi.RESPONSE_TIME:
                return self.total.first_response_median
            case Kpi.SLA_MET:
                return self.total.sla_met_percent
            case Kpi.POSITIVE_SHARE:
                return self.positive_share
            case Kpi.ENGAGEMENT_RATE:
                return self.engagement_rate
            case Kpi.AUDIENCE_GROWTH:
                return self.audience_growth
            case Kpi.SHARE_OF_VOICE:
                return self.share_of_voice
            case Kpi.POSTS_PUBLISHED:
                return float(self.total.posts_published)
        return None


def brand_channel_ids(brand: Brand, wanted: Iterable[int] | None) -> list[int] | None:
    """Only the brand's own channels, whatever the caller passed; None: all of them."""
    if wanted is None:
        return None
    ids = {int(pk) for pk in wanted}
    return sorted(Channel.objects.filter(brand=brand, pk__in=ids).values_list("pk", flat=True))


def figures(brand: Brand, period: Period, channel_ids: Iterable[int] | None = None) -> Figures:
    ids = brand_channel_ids(brand, channel_ids)
    days = ChannelDay.objects.filter(brand=brand, day__gte=period.first, day__lte=period.last)
    if ids is not None:
        days = days.filter(channel_id__in=ids)
    # The counts are summed by the database (by day, by channel); only the response-time histograms
    # (JSON) and the follower readings are walked here, one short row per channel and day.
    sums = {f"sum_{name}": Sum(name) for name in CHANNEL_COLUMNS}
    by_day: dict[date, Totals] = {
        row[0]: _totals(row[1:])
        for row in days.order_by().values("day").annotate(**sums).values_list("day", *sums)
    }
    by_channel: dict[int, Totals] = {
        row[0]: _totals(row[1:])
        for row in days.order_by().values("channel_id").annotate(**sums).values_list("channel_id", *sums)
    }
    audience: dict[int, Audience] = defaultdict(Audience)
    for channel_id, day, followers, histogram in days.order_by("day").values_list(
        "channel_id", "day", "followers", "first_responses"
    ):
        if histogram and any(histogram):
            add_histogram(by_day[day].first_responses, histogram)
            add_histogram(by_channel[channel_id].first_responses, histogram)
        if followers is not None:
            seen = audience[channel_id]
            seen.first = followers if seen.first is None else seen.first
            seen.last = followers
            seen.by_day[day] = followers
    total = Totals()
    for channel_totals in by_channel.values():
        total.merge(channel_totals)
    queries: dict[int, QueryTotals] = {}
    mentions_by_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for query_id, name, group, day, mentions, positive, neutral, negative in (
        QueryDay.objects.filter(brand=brand, day__gte=period.first, day__lte=period.last)
        .order_by("day")
        .values_list("query_id", "query__name", "group", "day", "mentions", "positive", "neutral", "negative")
    ):
        q = queries.setdefault(query_id, QueryTotals(name=name, group=group))
        q.mentions += mentions
        q.positive += positive
        q.neutral += neutral
        q.negative += negative
        mentions_by_day[day][group] += mentions
    channels = {c.pk: c for c in Channel.objects.filter(brand=brand)}
    return Figures(
        brand=brand,
        period=period,
        channel_ids=ids,
        total=total,
        by_day=dict(by_day),
        by_channel=dict(by_channel),
        audience=dict(audience),
        queries=queries,
        mentions_by_day={day: dict(groups) for day, groups in mentions_by_day.items()},
        channels=channels,
    )


def people_figures(brand: Brand, period: Period, ids: Sequence[int] | None) -> dict[int, PersonTotals]:
    """Each person's work in the period (in `ids`' channels; None: all): the counts summed by the
    database, a day worked counted once however many channels it spans; only the rows that hold first
    answers are read here, for their histograms."""
    rows = PersonDay.objects.filter(brand=brand, day__gte=period.first, day__lte=period.last)
    if ids is not None:
        rows = rows.filter(channel_id__in=ids)
    people: dict[int, PersonTotals] = {}
    for user_id, replies, conversations, after_hours, weekend, days_worked in (
        rows.order_by()
        .values("user_id")
        .annotate(
            sum_replies=Sum("replies"),
            sum_conversations=Sum("conversations"),  # a conversation is in one channel: no double count
            sum_after_hours=Sum("after_hours"),
            sum_weekend=Sum("weekend"),
            days=Count("day", distinct=True, filter=Q(replies__gt=0)),
        )
        .values_list("user_id", "sum_replies", "sum_conversations", "sum_after_hours", "sum_weekend", "days")
    ):
        people[user_id] = PersonTotals(
            replies=replies or 0,
            conversations=conversations or 0,
            after_hours=after_hours or 0,
            weekend=weekend or 0,
            days_worked=days_worked,
        )
    # Two reads: a rollup committed between them may bring someone the first did not see, or give
    # one person counts from one recount and a histogram from the next. Both are the same past days
    # counted again, so the table is off by at most the last minutes' replies, until the next load.
    for user_id, histogram in rows.filter(first_answers__gt=0).values_list("user_id", "first_responses"):
        add_histogram(people.setdefault(user_id, PersonTotals()).first_responses, histogram)
    return people
