"""When a report schedule is next due, and which period a due time reports on.

Times are chosen in the brand's time zone ("Mondays at 8:00 in Madrid") and stored in UTC, so a
weekly report stays at 8:00 local time across daylight-saving changes. An hour that does not exist
on the day the clocks go forward is sent at the same offset as before (02:30 becomes 03:30); an hour
that happens twice when they go back is sent the first time.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tertulia.analytics.periods import Period
from tertulia.reports.models import Frequency

SEARCH_DAYS = 400  # every weekly and monthly rule matches within this many days


def run_day(frequency: str, weekday: int, day_of_month: int, day: date) -> bool:
    """Whether a report with these settings goes out on `day` (a day of the brand's calendar)."""
    if frequency == Frequency.WEEKLY:
        return day.weekday() == weekday
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(day_of_month, last)


def local_time(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """`hour` o'clock on `day` in `zone`, as a UTC instant (see the module's note on DST)."""
    return datetime.combine(day, time(hour, 0), tzinfo=zone).astimezone(UTC)


def next_run(
    frequency: str, weekday: int, day_of_month: int, hour: int, zone: ZoneInfo, after: datetime
) -> datetime:
    """The first scheduled time strictly after `after` (aware), in UTC."""
    day = after.astimezone(zone).date()
    for offset in range(SEARCH_DAYS):
        candidate = day + timedelta(days=offset)
        if run_day(frequency, weekday, day_of_month, candidate):
            at = local_time(candidate, hour, zone)
            if at > after:
                return at
    raise ValueError("no run day found")  # pragma: no cover  # every rule matches within a year


def period_for(frequency: str, due_at: datetime, zone: ZoneInfo) -> Period:
    """The complete period a report due at `due_at` speaks of: the 7 days before it (weekly), or
    the calendar month before the one it is sent in (monthly)."""
    day = due_at.astimezone(zone).date()
    if frequency == Frequency.WEEKLY:
        return Period(day - timedelta(days=7), day - timedelta(days=1))
    last = day.replace(day=1) - timedelta(days=1)
    return Period(last.replace(day=1), last)
