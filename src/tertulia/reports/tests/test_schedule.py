"""Next run times across DST and month ends; the period a run reports on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tertulia.analytics.periods import Period
from tertulia.reports.schedule import next_run, period_for

MADRID = ZoneInfo("Europe/Madrid")


def test_weekly_keeps_local_hour_across_spring_and_autumn_changes() -> None:
    # Monday 23 March 2026, 08:00 in Madrid is 07:00 UTC (CET); the clocks go forward on 29 March.
    after = datetime(2026, 3, 23, 7, 0, tzinfo=UTC)
    nxt = next_run("weekly", 0, 1, 8, MADRID, after)
    assert nxt == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert nxt.astimezone(MADRID).hour == 8
    # Autumn: 25 October 2026 the clocks go back.
    nxt = next_run("weekly", 0, 1, 8, MADRID, datetime(2026, 10, 19, 6, 0, tzinfo=UTC))
    assert nxt == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_weekly_same_day_later_hour_and_strictly_after() -> None:
    monday_early = datetime(2026, 11, 16, 5, 0, tzinfo=UTC)
    assert next_run("weekly", 0, 1, 8, MADRID, monday_early) == datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    exactly = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    assert next_run("weekly", 0, 1, 8, MADRID, exactly) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_hour_missing_on_the_spring_day_runs_an_hour_later() -> None:
    nxt = next_run("weekly", 6, 1, 2, MADRID, datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    assert nxt == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST


def test_monthly_day_31_in_february_and_short_months() -> None:
    after = datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    feb = next_run("monthly", 0, 31, 9, MADRID, after)
    assert feb.astimezone(MADRID).date() == date(2027, 2, 28)
    march = next_run("monthly", 0, 31, 9, MADRID, feb)
    assert march.astimezone(MADRID).date() == date(2027, 3, 31)
    april = next_run("monthly", 0, 31, 9, MADRID, march)
    assert april.astimezone(MADRID).date() == date(2027, 4, 30)
    leap = next_run("monthly", 0, 30, 9, MADRID, datetime(2028, 2, 1, tzinfo=UTC))
    assert leap.astimezone(MADRID).date() == date(2028, 2, 29)


def test_periods() -> None:
    due = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)  # Monday
    assert period_for("weekly", due, MADRID) == Period(date(2026, 11, 9), date(2026, 11, 15))
    assert period_for("monthly", datetime(2026, 3, 1, 8, tzinfo=UTC), MADRID) == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    # 23:30 UTC on 31 Oct is already 1 Nov in Madrid: October is reported.
    assert period_for("monthly", datetime(2026, 10, 31, 23, 30, tzinfo=UTC), MADRID) == Period(
        date(2026, 10, 1), date(2026, 10, 31)
    )
