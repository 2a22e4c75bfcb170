"""What a report says, as plain values ready for its template: `build_report(...) -> Report`.

Figures come from the daily rollups (tertulia.analytics.figures) for the period and for the period
of the same length just before it; every text is produced in the report's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q, Sum
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from tertulia.analytics.figures import Figures, figures
from tertulia.analytics.models import QueryDay
from tertulia.analytics.objectives import Progress, progress
from tertulia.analytics.periods import Period
from tertulia.core.models import Brand
from tertulia.core.models.brand import Direction, Kpi
from tertulia.listening.models import QueryGroup
from tertulia.reports import charts, summary
from tertulia.reports.models import ALL_SECTIONS, Section
from tertulia.reports.summary import Facts, duration, number, percent

MAX_TABLE_ROWS = 15
NONE = "\u2013"  # an en dash: not measured
MINUS = "\u2212"


@dataclass(frozen=True)
class KpiRow:
    label: str
    now: str
    then: str
    change: str
    good: bool | None  # None: neither better nor worse (or not comparable)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str
    legend: list[tuple[str, str]] = field(default_factory=list)  # (label, colour)


@dataclass(frozen=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    empty: str = ""
    text_after_first: tuple[int, ...] = ()  # columns (besides the first) that hold words, not figures

    @property
    def numeric_columns(self) -> set[int]:
        """Columns aligned as figures: every column but the first and those holding words."""
        return set(range(1, len(self.headers))) - set(self.text_after_first)


@dataclass(frozen=True)
class ReportSection:
    key: str
    title: str
    kpis: list[KpiRow]
    charts: list[Chart]
    tables: list[Table]


@dataclass(frozen=True)
class Report:
    brand_name: str
    title: str
    language: str
    period: Period
    previous: Period
    period_label: str
    previous_label: str
    generated_at: datetime
    summary: list[str]
    sections: list[ReportSection]
    channels_label: str  # "every channel" or the chosen ones
    pdf_note: str = ""  # set when the PDF could not be made


# ------------------------------------------------------------------ helpers


def period_label(period: Period) -> str:
    first = formats.date_format(period.first, "DATE_FORMAT")
    last = formats.date_format(period.last, "DATE_FORMAT")
    return first if period.first == period.last else f"{first} {NONE} {last}"


def change_of(now: float | None, then: float | None, kind: str) -> str:
    """The change as shown in a KPI table: "+12 %" for counts, "+3 pts" for percentages."""
    if now is None or then is None:
        return NONE
    if kind == "percent":
        diff = now - then
        return (
            _("%(sign)s%(n)s pts") % {"sign": "+" if diff > 0 else "", "n": number(diff, 1)} if diff else "="
        )
    if kind == "minutes":
        diff = now - then
        if not round(diff):
            return "="
        return ("+" if diff > 0 else MINUS) + duration(abs(diff))
    if not then:
        return NONE
    rel = (now - then) / then * 100
    return ("+" if rel > 0 else "") + percent(rel) if round(rel) else "="


def kpi_row(
    label: str, now: float | None, then: float | None, kind: str = "count", lower_is_better: bool = False
) -> KpiRow:
    def show(value: float | None) -> str:
        if value is None:
            return NONE
        if kind == "percent":
            return percent(value)
        if kind == "minutes":
            return duration(value)
        return number(value)

    good: bool | None = None
    if now is not None and then is not None and now != then:
        good = (now < then) if lower_is_better else (now > then)
    return KpiRow(label, show(now), show(then), change_of(now, then, kind), good)


def negative_by_day(brand: Brand, period: Period, fig: Figures, source: str) -> dict[date, int]:
    if source == "messages":
        return {day: totals.negative for day, totals in fig.by_day.items() if totals.negative}
    rows = (
        QueryDay.objects.filter(
            brand=brand, group=QueryGroup.BRAND, day__gte=period.first, day__lte=period.last
        )
        .values("day")
        .annotate(n=Sum("negative"))
        .order_by("day")
    )
    return {row["day"]: int(row["n"] or 0) for row in rows if row["n"]}


def facts_of(brand: Brand, fig: Figures, source: str) -> Facts:
    mentions = fig.group_mentions(QueryGroup.BRAND)
    _pos, _neu, neg = fig.mention_sentiment
    followers = [a for a in fig.audience.values() if a.first is not None and a.last is not None]
    return Facts(
        days=fig.period.days,
        posts_published=fig.total.posts_published,
        engagements=fig.total.engagements,
        messages_in=fig.total.messages_in,
        answered=fig.total.answered,
        response_median=fig.total.first_response_median,
        sla_met_percent=fig.total.sla_met_percent,
        mentions=mentions,
        negative=neg if source == "mentions" else fig.total.negative,
        negative_source=source,
        negative_by_day=negative_by_day(brand, fig.period, fig, source),
        share_of_voice=fig.share_of_voice,
        followers_start=sum(a.first or 0 for a in followers) if followers else None,
        followers_end=sum(a.last or 0 for a in followers) if followers else None,
    )


def channel_name(fig: Figures, channel_id: int) -> str:
    channel = fig.channels.get(channel_id)
    return f"@{channel.handle} ({channel.network})" if channel is not None else "?"


# ------------------------------------------------------------------ sections


def publishing_section(now: Figures, then: Figures, days: list[date]) -> ReportSection:
    kpis = [
        kpi_row(_("Posts published"), now.total.posts_published, then.total.posts_published),
        kpi_row(
            _("Interactions (likes, reposts, replies, quotes)"), now.total.engagements, then.total.engagements
        ),
        kpi_row(_("Engagement rate"), now.engagement_rate, then.engagement_rate, "percent"),
    ]
    posts = {d: t.posts_published for d, t in now.by_day.items()}
    engaged = {d: t.engagements for d, t in now.by_day.items()}
    chart_list = [
        Chart(_("Posts published per day"), charts.daily_bars(days, posts, _("Posts published per day"))),
        Chart(
            _("Interactions per day (by the day the post went out)"),
            charts.daily_bars(days, engaged, _("Interactions per day"), "bar-good"),
        ),
    ]
    rows = sorted(now.by_channel.items(), key=lambda item: -item[1].engagements)[:MAX_TABLE_ROWS]
    table = Table(
        _("By channel"),
        [_("Channel"), _("Posts"), _("Interactions")],
        [
            [channel_name(now, pk), number(t.posts_published), number(t.engagements)]
            for pk, t in rows
            if t.posts_published or t.engagements
        ],
        _("Nothing was published in this period."),
    )
    return ReportSection(Section.PUBLISHING, _("Publishing"), kpis, chart_list, [table])


def inbox_section(now: Figures, then: Figures, days: list[date]) -> ReportSection:
    kpis = [
        kpi_row(_("Messages received"), now.total.messages_in, then.total.messages_in),
        kpi_row(_("Replies sent"), now.total.messages_out, then.total.messages_out),
        kpi_row(
            _("Median first response"),
            now.total.first_response_median,
            then.total.first_response_median,
            "minutes",
            lower_is_better=True,
        ),
        kpi_row(
            _("First response, 90th percentile"),
            now.total.first_response_p90,
            then.total.first_response_p90,
            "minutes",
            lower_is_better=True,
        ),
        kpi_row(
            _("Answered on time (SLA met)"), now.total.sla_met_percent, then.total.sla_met_percent, "percent"
        ),
    ]

    def received(fig: Figures, day: date) -> float:
        return float(fig.by_day[day].messages_in) if day in fig.by_day else 0.0

    # The period before drawn under this one, day by day (both periods have the same length); its
    # points still name their own days.
    before, then_days = _("Period before"), then.period.dates()
    svg, legend = charts.daily_lines(
        days,
        [
            (_("This period"), "line-a", {d: received(now, d) for d in days}),
            (before, "line-muted", {d: received(then, b) for d, b in zip(days, then_days, strict=True)}),
        ],
        _("Messages received per day"),
        drawn_ahead={before: now.period.first - then.period.first},
    )
    rows = sorted(now.by_channel.items(), key=lambda item: -item[1].messages_in)[:MAX_TABLE_ROWS]
    table = Table(
        _("By channel"),
        [_("Channel"), _("Received"), _("Median first response"), _("SLA met")],
        [
            [
                channel_name(now, pk),
                number(t.messages_in),
                duration(t.first_response_median) if t.first_response_median is not None else NONE,
                percent(t.sla_met_percent) if t.sla_met_percent is not None else NONE,
            ]
            for pk, t in rows
            if t.messages_in or t.answered
        ],
        _("No messages in this period."),
    )
    return ReportSection(
        Section.INBOX, _("Inbox"), kpis, [Chart(_("Messages received per day"), svg, legend)], [table]
    )


def listening_section(now: Figures, then: Figures, days: list[date]) -> ReportSection:
    kpis = [
        kpi_row(
            _("Brand mentions"), now.group_mentions(QueryGroup.BRAND), then.group_mentions(QueryGroup.BRAND)
        ),
        kpi_row(
            _("Negative mentions"), now.mention_sentiment[2], then.mention_sentiment[2], lower_is_better=True
        ),
        kpi_row(_("Positive share"), now.positive_share, then.positive_share, "percent"),
        kpi_row(_("Share of voice"), now.share_of_voice, then.share_of_voice, "percent"),
    ]
    series: list[tuple[str, str, dict[date, float | None]]] = [
        (label, css, {d: float(now.mentions_by_day.get(d, {}).get(group, 0)) for d in days})
        for group, label, css in (
            (QueryGroup.BRAND, _("Brand"), "line-a"),
            (QueryGroup.COMPETITOR, _("Competitors"), "line-b"),
        )
    ]
    svg, legend = charts.daily_lines(days, series, _("Mentions per day"))
    chart = Chart(_("Mentions per day"), svg, legend)
    group_names = dict(QueryGroup.choices)
    top = sorted(now.queries.values(), key=lambda q: -q.mentions)[:MAX_TABLE_ROWS]
    table = Table(
        _("Listening queries"),
        [_("Query"), _("Group"), _("Mentions"), _("Negative")],
        [
            [q.name, str(group_names.get(q.group, q.group)), number(q.mentions), number(q.negative)]
            for q in top
            if q.mentions
        ],
        _("No mentions in this period."),
        text_after_first=(1,),
    )
    return ReportSection(Section.LISTENING, _("Listening"), kpis, [chart], [table])


def audience_section(now: Figures, then: Figures, days: list[date]) -> ReportSection:
    kpis = [
        kpi_row(_("Followers at the end"), now.followers_last, then.followers_last),
        kpi_row(_("Audience growth"), now.audience_growth, then.audience_growth, "percent"),
    ]
    svg, _legend = charts.daily_lines(
        days, [(_("Followers"), "line-a", now.followers_by_day())], _("Followers")
    )
    chart = Chart(_("Followers"), svg)
    rows = []
    for pk, seen in sorted(now.audience.items(), key=lambda item: -(item[1].last or 0))[:MAX_TABLE_ROWS]:
        growth = seen.growth
        rows.append(
            [
                channel_name(now, pk),
                number(seen.first) if seen.first is not None else NONE,
                number(seen.last) if seen.last is not None else NONE,
                ("+" if growth and growth > 0 else "") + number(growth) if growth is not None else NONE,
            ]
        )
    table = Table(
        _("By channel"),
        [_("Channel"), _("At the start"), _("At the end"), _("Change")],
        rows,
        _("No follower counts were collected in this period."),
    )
    return ReportSection(Section.AUDIENCE, _("Audience"), kpis, [chart], [table])


def show_kpi(kpi: str, value: float | None) -> str:
    if value is None:
        return NONE
    if kpi == Kpi.RESPONSE_TIME:
        return duration(value)
    if kpi == Kpi.POSTS_PUBLISHED:
        return number(value)
    return percent(value)


def objectives_section(found: Sequence[Progress]) -> ReportSection:
    directions = dict(Direction.choices)
    rows = [
        [
            p.objective.title,
            str(p.objective.get_kpi_display()),
            f"{directions.get(p.objective.direction, '')} "
            f"{show_kpi(p.objective.kpi, float(p.objective.target))}",
            show_kpi(p.objective.kpi, p.actual),
            p.status.label,
        ]
        for p in found
    ]
    table = Table(
        _("Objectives"),
        [_("Objective"), _("KPI"), _("Target"), _("Measured"), _("Status")],
        rows,
        _("No objectives cover this period."),
        text_after_first=(1, 2, 4),
    )
    return ReportSection(Section.OBJECTIVES, _("Objectives"), [], [], [table])


def objectives_of(brand: Brand, period: Period) -> list[Progress]:
    """Objectives whose period overlaps the report's, measured as of its last day."""
    wanted = brand.objectives.filter(Q(period_start__lte=period.last) & Q(period_end__gte=period.first))
    return progress(list(wanted), period.last)


# ------------------------------------------------------------------ the report


def build_report(
    brand: Brand,
    period: Period,
    sections: Iterable[str],
    channel_ids: Iterable[int] | None,
    language: str,
    title: str = "",
) -> Report:
    chosen = [s for s in ALL_SECTIONS if s in set(sections)] or list(ALL_SECTIONS)
    ids = list(channel_ids) if channel_ids else None
    previous = period.previous()
    with translation.override(language):
        now, then = figures(brand, period, ids), figures(brand, previous, ids)
        source = (
            "mentions"
            if now.group_mentions(QueryGroup.BRAND) or then.group_mentions(QueryGroup.BRAND)
            else "messages"
        )
        found = objectives_of(brand, period) if Section.OBJECTIVES in chosen else []
        opening = summary.summarize(
            facts_of(brand, now, source), facts_of(brand, then, source), chosen, found
        )
        days = period.dates()
        built = {
            Section.PUBLISHING: lambda: publishing_section(now, then, days),
            Section.INBOX: lambda: inbox_section(now, then, days),
            Section.LISTENING: lambda: listening_section(now, then, days),
            Section.AUDIENCE: lambda: audience_section(now, then, days),
            Section.OBJECTIVES: lambda: objectives_section(found),
        }
        if now.channel_ids is None:
            channels_label = _("Every channel of the brand")
        else:
            channels_label = ", ".join(channel_name(now, pk) for pk in now.channel_ids) or _("No channel")
        return Report(
            brand_name=brand.name,
            title=title or _("Report"),
            language=language,
            period=period,
            previous=previous,
            period_label=period_label(period),
            previous_label=period_label(previous),
            generated_at=timezone.now(),
            summary=opening,
            sections=[built[Section(s)]() for s in chosen],
            channels_label=channels_label,
        )
