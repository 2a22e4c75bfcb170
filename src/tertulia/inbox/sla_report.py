"""The SLA report: how often a brand answered within its targets, and how fast it answers first.

It counts response targets (tertulia.inbox.models.ResponseTarget: one per run of the clock) that
*started* in the period:

- **met**: answered by the due time (or while the clock was paused);
- **breached**: answered late, plus any target still running whose clock has already run past
  its due time ("breached so far": it cannot end met any more, and leaving it out would make a
  backlog look good);
- **stopped** (closed without an answer) and targets still running on time count in neither.

SLA met % = met / (met + breached). One grouped query gives every breakdown (by stage, channel
and intent of the conversation); first-response times come from one more query, computed in the
brand's business hours, over at most `MAX_SAMPLE` of the period's newest first responses.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel
from tertulia.core.models.brand import Direction, Kpi, Objective
from tertulia.inbox.businesshours import business_time_between
from tertulia.inbox.models import Conversation, Intent, ResponseTarget, SlaPolicy, Status
from tertulia.inbox.sla import hours_of, policy_for

Outcome = ResponseTarget.Outcome
Stage = ResponseTarget.Stage

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_SAMPLE = 5000


@dataclass(frozen=True)
class Tally:
    met: int = 0
    breached: int = 0  # answered late, plus running_late
    running_late: int = 0  # still unanswered, already past due (counted in breached)
    running: int = 0  # still unanswered, on time so far
    stopped: int = 0  # closed unanswered: neither met nor breached

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.met + other.met,
            self.breached + other.breached,
            self.running_late + other.running_late,
            self.running + other.running,
            self.stopped + other.stopped,
        )

    @property
    def counted(self) -> int:
        """The targets the percentage is about: met or breached."""
        return self.met + self.breached

    @property
    def total(self) -> int:
        return self.met + self.breached + self.running + self.stopped

    @property
    def met_percent(self) -> float | None:
        """None when nothing was met or breached yet (no answer is not 0 %)."""
        return round(100 * self.met / self.counted, 1) if self.counted else None


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: `key` is the stage, channel id or intent; `label` is for people."""

    key: str
    label: str
    tally: Tally


@dataclass(frozen=True)
class SlaReport:
    brand_id: int
    start: datetime
    end: datetime
    generated_at: datetime
    overall: Tally
    by_stage: list[Row]
    by_channel: list[Row]
    by_intent: list[Row]
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    first_response_sample: int  # how many first responses the times are computed from
    at_risk: int  # open conversations due within the warning time
    overdue: int  # open conversations already past their due time
    channel_ids: list[int] = field(default_factory=list)  # the filter, if any

    @property
    def met_percent(self) -> float | None:
        return self.overall.met_percent

    @property
    def breakdowns(self) -> list[tuple[str, Promise, list[Row]]]:
        """(key, caption, rows) of each breakdown, for templates."""
        return [
            ("stage", _("By stage"), self.by_stage),
            ("channel", _("By channel"), self.by_channel),
            ("intent", _("By intent"), self.by_intent),
        ]


def period_days(value: object) -> int:
    """A `?days=` parameter: one of PERIODS, else the default (never an error)."""
    try:
        days = int(str(value))
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS


def _channel_ids(brand: Brand, channels: Iterable[Channel | int] | None) -> list[int] | None:
    if channels is None:
        return None
    wanted = {c.pk if isinstance(c, Channel) else int(c) for c in channels}
    # Only the brand's own channels, whatever the caller passed.
    return sorted(Channel.objects.filter(brand=brand, pk__in=wanted).values_list("pk", flat=True))


def sla_report(
    brand: Brand,
    start: datetime,
    end: datetime,
    channels: Iterable[Channel | int] | None = None,
    *,
    now: datetime | None = None,
) -> SlaReport:
    """The report for targets started in [start, end), optionally on some of the brand's channels."""
    now = now or timezone.now()
    channel_ids = _channel_ids(brand, channels)
    targets = ResponseTarget.objects.filter(brand=brand, started_at__gte=start, started_at__lt=end)
    if channel_ids is not None:
        targets = targets.filter(conversation__channel_id__in=channel_ids)

    # Late so far: the clock ran past due (a paused clock stopped counting when it was paused).
    late = Q(
        outcome=Outcome.RUNNING, due_at__lt=Coalesce(F("paused_at"), Value(now, output_field=DateTimeField()))
    )
    rows = (
        targets.order_by()
        .values("stage", "conversation__channel_id", "conversation__intent")
        .annotate(
            met=Count("id", filter=Q(outcome=Outcome.MET)),
            breached=Count("id", filter=Q(outcome=Outcome.BREACHED)),
            late=Count("id", filter=late),
            running=Count("id", filter=Q(outcome=Outcome.RUNNING)),
            stopped=Count("id", filter=Q(outcome=Outcome.STOPPED)),
        )
    )
    overall = Tally()
    stages: dict[str, Tally] = {}
    by_channel: dict[int, Tally] = {}
    by_intent: dict[str, Tally] = {}
    for row in rows:
        tally = Tally(
            met=row["met"],
            breached=row["breached"] + row["late"],
            running_late=row["late"],
            running=row["running"] - row["late"],
            stopped=row["stopped"],
        )
        overall += tally
        stages[row["stage"]] = stages.get(row["stage"], Tally()) + tally
        channel_id = row["conversation__channel_id"]
        by_channel[channel_id] = by_channel.get(channel_id, Tally()) + tally
        by_intent[row["conversation__intent"]] = by_intent.get(row["conversation__intent"], Tally()) + tally

    channel_names = {
        c.pk: f"@{c.handle}" for c in Channel.objects.filter(pk__in=by_channel).only("pk", "handle")
    }
    policy = policy_for(brand)
    median, p90, sample = _first_response_times(policy, targets)
    open_now = Conversation.objects.filter(brand=brand, status=Status.OPEN, due_at__isnull=False)
    if channel_ids is not None:
        open_now = open_now.filter(channel_id__in=channel_ids)
    warn = timedelta(minutes=policy.warn_before_minutes)
    clocks = open_now.aggregate(
        overdue=Count("id", filter=Q(due_at__lte=now)),
        at_risk=Count("id", filter=Q(due_at__gt=now, due_at__lte=now + warn)),
    )
    return SlaReport(
        brand_id=brand.pk,
        start=start,
        end=end,
        generated_at=now,
        overall=overall,
        by_stage=[Row(s.value, str(s.label), stages[s.value]) for s in Stage if s.value in stages],
        by_channel=sorted(
            (Row(str(pk), channel_names.get(pk, str(pk)), t) for pk, t in by_channel.items()),
            key=lambda r: (-r.tally.total, r.label),
        ),
        by_intent=[Row(i.value, str(i.label), by_intent[i.value]) for i in Intent if i.value in by_intent],
        first_response_median_minutes=median,
        first_response_p90_minutes=p90,
        first_response_sample=sample,
        at_risk=clocks["at_risk"] or 0,
        overdue=clocks["overdue"] or 0,
        channel_ids=channel_ids or [],
    )


def _first_response_times(
    policy: SlaPolicy, targets: QuerySet[ResponseTarget]
) -> tuple[float | None, float | None, int]:
    """Median and 90th percentile of the business minutes from a customer's first message to our
    first answer (a pause while waiting on the customer is included)."""
    spans = [
        (started, ended)
        for started, ended in targets.filter(
            stage=Stage.FIRST, outcome__in=(Outcome.MET, Outcome.BREACHED), ended_at__isnull=False
        )
        .order_by("-started_at")
        .values_list("started_at", "ended_at")[:MAX_SAMPLE]
        if ended is not None
    ]
    if not spans:
        return None, None, 0
    if policy.business_hours:
        hours = hours_of(policy)
        minutes = [business_time_between(hours, s, e).total_seconds() / 60 for s, e in spans]
    else:  # open around the clock: business time is elapsed time, no calendar walk needed
        minutes = [max((e - s).total_seconds(), 0.0) / 60 for s, e in spans]
    return round(statistics.median(minutes), 1), round(percentile(minutes, 90), 1), len(minutes)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value at least p % of the values are not above."""
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def report_for_last(brand: Brand, days: int, now: datetime | None = None) -> SlaReport:
    now = now or timezone.now()
    return sla_report(brand, now - timedelta(days=days), now, now=now)


@dataclass(frozen=True)
class ObjectiveProgress:
    objective: Objective
    actual: float | None  # the report's SLA met %
    on_track: bool | None  # None: nothing measured yet


def objective_progress(objectives: Iterable[Objective], report: SlaReport) -> list[ObjectiveProgress]:
    """The brand's SLA-met objectives against the report's SLA met %."""
    progress = []
    for objective in objectives:
        if objective.kpi != Kpi.SLA_MET:
            continue
        actual = report.met_percent
        on_track = None
        if actual is not None:
            target = Decimal(objective.target)
            value = Decimal(str(actual))
            on_track = value >= target if objective.direction == Direction.AT_LEAST else value <= target
        progress.append(ObjectiveProgress(objective, actual, on_track))
    return progress
