"""What each dashboard shows, built from Figures: KPI tiles, chart series and tables.

Plain data for the views, the CSV exports and the API; no request, no template. Every table a
dashboard shows is a `Table` with the same columns as its CSV export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tertulia.analytics.figures import Figures, Totals, histogram_percentile
from tertulia.analytics.models import PostMetrics
from tertulia.analytics.objectives import Progress
from tertulia.analytics.rollup import day_start, zone_of
from tertulia.core.models import User
from tertulia.core.models.brand import Kpi
from tertulia.listening.models import QueryGroup
from tertulia.publishing.models import DeliveryTarget, TargetState

PAGES = ("overview", "publishing", "inbox", "listening", "audience")
LOWER_IS_BETTER = frozenset({Kpi.RESPONSE_TIME})
PERCENT_KPIS = frozenset(
    {Kpi.SLA_MET, Kpi.POSITIVE_SHARE, Kpi.ENGAGEMENT_RATE, Kpi.AUDIENCE_GROWTH, Kpi.SHARE_OF_VOICE}
)
TOP_POSTS = 20


@dataclass(frozen=True)
class Tile:
    kpi: str
    label: str
    current: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 2)

    @property
    def better(self) -> bool | None:
        """Whether the change is for the better (None: no change or nothing to compare)."""
        if not self.change:
            return None
        return (self.change < 0) if self.kpi in LOWER_IS_BETTER else (self.change > 0)

    @property
    def percent(self) -> bool:
        return self.kpi in PERCENT_KPIS


def tiles(current: Figures, previous: Figures) -> list[Tile]:
    return [Tile(k.value, str(k.label), current.kpi(k.value), previous.kpi(k.value)) for k in Kpi]


@dataclass(frozen=True)
class Table:
    """A table as the page shows it and the CSV exports it: header labels and rows of plain values."""

    slug: str
    title: Promise
    header: list[Promise]
    rows: list[list[object]]


def _pct(value: float | None) -> object:
    return "" if value is None else value


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def days_table(fig: Figures) -> Table:
    rows = []
    for day in fig.period.dates():
        t = fig.by_day.get(day) or Totals()
        mentions = fig.mentions_by_day.get(day, {})
        rows.append(
            [
                day.isoformat(),
                t.posts_published,
                t.engagements,
                t.messages_in,
                t.messages_out,
                _pct(t.first_response_median),
                _pct(t.sla_met_percent),
                mentions.get(QueryGroup.BRAND, 0),
                mentions.get(QueryGroup.COMPETITOR, 0),
            ]
        )
    return Table(
        "days",
        _("Day by day"),
        [
            _("Day"),
            _("Posts published"),
            _("Engagements"),
            _("Messages received"),
            _("Replies sent"),
            _("Median first response (minutes)"),
            _("SLA met (%)"),
            _("Brand mentions"),
            _("Competitor mentions"),
        ],
        rows,
    )


def channels_table(fig: Figures) -> Table:
    rows = []
    for channel_id, t in sorted(
        fig.by_channel.items(), key=lambda kv: -kv[1].messages_in - kv[1].posts_published
    ):
        channel = fig.channels.get(channel_id)
        audience = fig.audience.get(channel_id)
        rows.append(
            [
                f"@{channel.handle}" if channel else str(channel_id),
                channel.network if channel else "",
                t.posts_published,
                t.engagements,
                t.impressions or "",
                t.messages_in,
                t.messages_out,
                _pct(t.first_response_median),
                _pct(t.sla_met_percent),
                "" if audience is None or audience.last is None else audience.last,
                "" if audience is None or audience.growth is None else audience.growth,
            ]
        )
    return Table(
        "channels",
        _("By channel"),
        [
            _("Channel"),
            _("Network"),
            _("Posts published"),
            _("Engagements"),
            _("Impressions"),
            _("Messages received"),
            _("Replies sent"),
            _("Median first response (minutes)"),
            _("SLA met (%)"),
            _("Followers"),
            _("Followers gained"),
        ],
        rows,
    )


def people_table(fig: Figures, shown: AbstractSet[int] | None = None) -> Table:
    """Each person's work in the brand, in the chosen channels.

    `shown`: whose rows the viewer may see (None: everybody's, for those who manage the brand's
    people); a colleague's figures are never shown to someone who does not (docs/analytics.md).
    """
    # Nobody to show: the per-person figures are not even read (a year of every channel is ~0.2 s).
    everyone = fig.people if shown is None or shown else {}
    people = {k: v for k, v in everyone.items() if shown is None or k in shown}
    names = {u.pk: u for u in User.objects.filter(pk__in=people)}
    rows = []
    for user_id, p in sorted(people.items(), key=lambda kv: -kv[1].replies):
        user = names.get(user_id)
        rows.append(
            [
                user.get_full_name() or user.email if user else str(user_id),
                p.replies,
                p.conversations,
                _pct(p.first_response_median),
                p.after_hours,
                _pct(_share(p.after_hours, p.replies)),
                p.weekend,
                p.days_worked,
            ]
        )
    return Table(
        "people",
        _("By person"),
        [
            _("Person"),
            _("Replies sent"),
            _("Conversations answered"),
            _("Median first response (minutes)"),
            _("Replies after hours"),
            _("After hours (%)"),
            _("Replies at weekends"),
            _("Days worked"),
        ],
        rows,
    )


def queries_table(fig: Figures) -> Table:
    labels = dict(QueryGroup.choices)
    rows: list[list[object]] = [
        [
            q.name,
            str(labels.get(q.group, q.group)),
            q.mentions,
            q.positive,
            q.neutral,
            q.negative,
            _pct(_share(q.positive, q.mentions)),
            _pct(_share(q.negative, q.mentions)),
        ]
        for q in sorted(fig.queries.values(), key=lambda q: -q.mentions)
    ]
    return Table(
        "queries",
        _("By listening query"),
        [
            _("Query"),
            _("Group"),
            _("Mentions"),
            _("Positive"),
            _("Neutral"),
            _("Negative"),
            _("Positive (%)"),
            _("Negative (%)"),
        ],
        rows,
    )


def audience_table(fig: Figures) -> Table:
    rows = []
    for channel_id, audience in sorted(fig.audience.items(), key=lambda kv: -(kv[1].last or 0)):
        channel = fig.channels.get(channel_id)
        start = audience.first
        rows.append(
            [
                f"@{channel.handle}" if channel else str(channel_id),
                "" if start is None else start,
                "" if audience.last is None else audience.last,
                "" if audience.growth is None else audience.growth,
                _pct(
                    None if not start or audience.growth is None else round(100 * audience.growth / start, 2)
                ),
            ]
        )
    return Table(
        "audience",
        _("Audience by channel"),
        [_("Channel"), _("Followers at the start"), _("Followers at the end"), _("Gained"), _("Growth (%)")],
        rows,
    )


def _blank(value: object) -> object:
    return "" if value is None else value


def _growth(start: int | None, gained: int | None) -> float | None:
    return None if not start or gained is None else round(100 * gained / start, 2)


def posts_table(fig: Figures, limit: int | None = TOP_POSTS) -> Table:
    """The period's published posts, most engaging first (all of them for the CSV: limit None).

    A post whose figures were not collected yet (or whose network gives none) shows empty cells.
    """
    start, end = (
        day_start(fig.brand, fig.period.first),
        day_start(fig.brand, fig.period.last + timedelta(days=1)),
    )
    sent = (
        DeliveryTarget.objects.filter(
            brand=fig.brand, state=TargetState.SENT, sent_at__gte=start, sent_at__lt=end
        )
        .annotate(
            engagement=Coalesce(
                F("metrics__likes") + F("metrics__reposts") + F("metrics__replies") + F("metrics__quotes"), 0
            )
        )
        .select_related("post", "channel", "metrics")
        .order_by("-engagement", "-sent_at", "-pk")
    )
    if fig.channel_ids is not None:
        sent = sent.filter(channel_id__in=fig.channel_ids)
    rows: list[list[object]] = []
    for target in sent[:limit] if limit else sent:
        metrics: PostMetrics | None = getattr(target, "metrics", None)
        figures = (
            [metrics.likes, metrics.reposts, metrics.replies, metrics.quotes, _blank(metrics.impressions)]
            if metrics is not None
            else ["", "", "", "", ""]
        )
        when = target.sent_at.astimezone(zone_of(fig.brand)).date().isoformat() if target.sent_at else ""
        rows.append([when, f"@{target.channel.handle}", target.post.text[:140], *figures, target.url])
    return Table(
        "posts",
        _("Posts by engagement"),
        [
            _("Published"),
            _("Channel"),
            _("Text"),
            _("Likes"),
            _("Reposts"),
            _("Replies"),
            _("Quotes"),
            _("Impressions"),
            _("Link"),
        ],
        rows,
    )


def objectives_table(progress: Sequence[Progress]) -> Table:
    rows: list[list[object]] = [
        [
            p.objective.title,
            p.objective.get_kpi_display(),
            p.objective.get_direction_display(),
            float(p.objective.target),
            p.objective.period_start.isoformat(),
            p.objective.period_end.isoformat(),
            _pct(p.actual),
            p.status.label,
        ]
        for p in progress
    ]
    return Table(
        "objectives",
        _("Objectives"),
        [
            _("Objective"),
            _("KPI"),
            _("Direction"),
            _("Target"),
            _("From"),
            _("Until"),
            _("Actual"),
            _("Status"),
        ],
        rows,
    )


# The CSV exports: each table a dashboard shows, by slug.
FIG_TABLES: dict[str, Callable[[Figures], Table]] = {
    "days": days_table,
    "channels": channels_table,
    "people": people_table,
    "queries": queries_table,
    "audience": audience_table,
    "posts": lambda fig: posts_table(fig, limit=None),
}


def daily(fig: Figures, read: Callable[[Totals], float | int | None]) -> dict[date, float | None]:
    """One value per day of the period from the day's totals (days without a row read as empty totals)."""
    return {day: read(fig.by_day.get(day) or Totals()) for day in fig.period.dates()}


def first_response_median(t: Totals) -> float | None:
    return histogram_percentile(t.first_responses, 50)
