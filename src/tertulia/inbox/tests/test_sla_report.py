"""The SLA report on a hand-built history: met %, breakdowns, response times, open clocks."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models.brand import Direction, Kpi, Objective
from tertulia.core.tests.factories import make_brand
from tertulia.inbox.actions.settings import update_sla_policy
from tertulia.inbox.models import Conversation, ResponseTarget, Status
from tertulia.inbox.sla_report import objective_progress, percentile, period_days, sla_report
from tertulia.inbox.tests.conftest import T0

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
NOW = T0 + timedelta(days=10)
H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
Outcome = ResponseTarget.Outcome
Stage = ResponseTarget.Stage
_keys = itertools.count()


def _conversation(channel, intent: str, status: str = Status.CLOSED, due_at: datetime | None = None):
    return Conversation.objects.create(
        organization=channel.organization,
        brand=channel.brand,
        channel=channel,
        key=f"c{next(_keys)}",
        kind="mention",
        intent=intent,
        status=status,
        due_at=due_at,
        last_message_at=T0,
    )


def _target(conversation, stage, outcome, started, due, ended=None, paused=None) -> ResponseTarget:
    return ResponseTarget.objects.create(
        conversation=conversation,
        brand=conversation.brand,
        stage=stage,
        outcome=outcome,
        started_at=started,
        due_at=due,
        ended_at=ended,
        paused_at=paused,
    )


@pytest.fixture
def history(channel):
    """Channel A is the fixture's; B a second channel of the same brand."""
    a = channel
    b = connect_channel(SYSTEM, channel.brand, "sandbox", "@marca_ayuda", "Ayuda")
    c1 = _conversation(a, "question")
    _target(c1, Stage.FIRST, Outcome.MET, T0, T0 + D, ended=T0 + 30 * M)
    c2 = _conversation(a, "complaint")
    _target(c2, Stage.FIRST, Outcome.BREACHED, T0 + H, T0 + 2 * H, ended=T0 + 4 * H)
    c3 = _conversation(b, "question")
    _target(c3, Stage.FIRST, Outcome.MET, T0 + 2 * H, T0 + D, ended=T0 + 3 * H)
    _target(c3, Stage.NEXT, Outcome.MET, T0 + D, T0 + 2 * D, ended=T0 + D + H)
    c4 = _conversation(b, "complaint", Status.OPEN, due_at=T0 + 9 * D)  # still unanswered, overdue
    _target(c4, Stage.FIRST, Outcome.RUNNING, T0 + 5 * D, T0 + 9 * D)
    c5 = _conversation(a, "praise", Status.OPEN, due_at=NOW + 10 * M)  # on time, due soon
    _target(c5, Stage.FIRST, Outcome.RUNNING, T0 + 6 * D, NOW + 10 * M)
    c6 = _conversation(a, "other")
    _target(c6, Stage.FIRST, Outcome.STOPPED, T0 + 3 * D, T0 + 4 * D, ended=T0 + 3 * D + H)
    # Paused before its due time: not late, whatever the clock on the wall says.
    c7 = _conversation(a, "question", Status.PENDING)
    _target(c7, Stage.FIRST, Outcome.RUNNING, T0 + D, T0 + D + H, paused=T0 + D + 30 * M)
    # Paused after its due time: it was already late.
    c8 = _conversation(b, "question", Status.PENDING)
    _target(c8, Stage.FIRST, Outcome.RUNNING, T0 + D, T0 + 2 * D, paused=T0 + 3 * D)
    # Outside the period, or another brand: never counted.
    _target(c1, Stage.NEXT, Outcome.BREACHED, T0 - D, T0 - D + H, ended=T0)
    other = connect_channel(SYSTEM, make_brand(channel.organization, "Otra"), "sandbox", "@otra", "Otra")
    _target(_conversation(other, "question"), Stage.FIRST, Outcome.BREACHED, T0 + H, T0 + 2 * H, ended=T0 + D)
    return a, b


def _rows(rows) -> dict[str, tuple[int, int, int, int, float | None]]:
    return {
        r.key: (r.tally.met, r.tally.breached, r.tally.running, r.tally.stopped, r.tally.met_percent)
        for r in rows
    }


def test_the_numbers_of_a_known_history(history, django_assert_max_num_queries) -> None:
    a, b = history
    with django_assert_max_num_queries(6):
        report = sla_report(a.brand, T0, T0 + 7 * D, now=NOW)
    overall = report.overall
    assert (overall.met, overall.breached, overall.running_late, overall.running, overall.stopped) == (
        3,
        3,
        2,
        2,
        1,
    )
    assert report.met_percent == 50.0
    assert overall.total == 9
    assert _rows(report.by_stage) == {"first": (2, 3, 2, 1, 40.0), "next": (1, 0, 0, 0, 100.0)}
    assert _rows(report.by_channel) == {str(a.pk): (1, 1, 2, 1, 50.0), str(b.pk): (2, 2, 0, 0, 50.0)}
    assert {r.label for r in report.by_channel} == {"@marca_inbox", "@marca_ayuda"}
    assert _rows(report.by_intent) == {
        "question": (3, 1, 1, 0, 75.0),
        "complaint": (0, 2, 0, 0, 0.0),
        "praise": (0, 0, 1, 0, None),
        "other": (0, 0, 0, 1, None),
    }
    # First responses answered: 30, 180 and 60 minutes (around the clock).
    assert report.first_response_sample == 3
    assert report.first_response_median_minutes == 60.0
    assert report.first_response_p90_minutes == 180.0
    assert (report.overdue, report.at_risk) == (1, 1)


def test_a_channel_filter_keeps_to_those_channels(history) -> None:
    a, b = history
    report = sla_report(a.brand, T0, T0 + 7 * D, channels=[b], now=NOW)
    assert (report.overall.met, report.overall.breached) == (2, 2)
    assert [r.key for r in report.by_channel] == [str(b.pk)]
    assert (report.overdue, report.at_risk) == (1, 0)
    # Another brand's channel is ignored rather than leaking its numbers.
    other = make_brand(a.organization, "Tercera")
    foreign = connect_channel(SYSTEM, other, "sandbox", "@tercera", "Tercera")
    assert sla_report(a.brand, T0, T0 + 7 * D, channels=[foreign.pk], now=NOW).overall.total == 0


def test_nothing_measured_is_not_zero_percent(channel) -> None:
    report = sla_report(channel.brand, T0, T0 + D, now=NOW)
    assert report.met_percent is None
    assert report.first_response_median_minutes is None and report.first_response_sample == 0
    assert [report.by_stage, report.by_channel, report.by_intent] == [[], [], []]


def test_first_response_time_counts_business_minutes(channel) -> None:
    update_sla_policy(
        SYSTEM,
        channel.brand,
        business_hours={
            "timezone": "Europe/Madrid",
            "week": {d: [["09:00", "17:00"]] for d in ("mon", "fri")},
        },
    )
    madrid = ZoneInfo("Europe/Madrid")
    friday = datetime(2026, 11, 20, 16, 30, tzinfo=madrid)  # a Friday
    monday = datetime(2026, 11, 23, 9, 30, tzinfo=madrid)
    c = _conversation(channel, "question")
    _target(c, Stage.FIRST, Outcome.MET, friday, monday + H, ended=monday)
    channel.brand.refresh_from_db()
    report = sla_report(channel.brand, friday - D, friday + D, now=monday + D)
    assert report.first_response_median_minutes == 60.0  # 30 on Friday, 30 on Monday


def test_objective_progress_uses_the_reports_percentage(history) -> None:
    a, _b = history
    report = sla_report(a.brand, T0, T0 + 7 * D, now=NOW)
    period = {"period_start": T0.date(), "period_end": (T0 + 90 * D).date()}
    at_least = Objective(brand=a.brand, title="x", kpi=Kpi.SLA_MET, target=95, **period)
    at_most = Objective(
        brand=a.brand, title="y", kpi=Kpi.SLA_MET, direction=Direction.AT_MOST, target=60, **period
    )
    other = Objective(brand=a.brand, title="z", kpi=Kpi.POSITIVE_SHARE, target=10, **period)
    progress = objective_progress([at_least, at_most, other], report)
    assert [(p.objective.title, p.actual, p.on_track) for p in progress] == [
        ("x", 50.0, False),
        ("y", 50.0, True),
    ]


def test_period_days_and_percentile() -> None:
    assert [period_days(v) for v in ("7", "30", "90", None, "", "15", "x" * 50, "-7", 90)] == [
        7,
        30,
        90,
        30,
        30,
        30,
        30,
        30,
        90,
    ]
    assert percentile([5.0], 90) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 90) == 9.0
    assert percentile([float(n) for n in range(1, 11)], 50) == 5.0
