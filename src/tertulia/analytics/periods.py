"""The period a dashboard or report is about, and the one before it to compare with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

PRESETS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years: the longest custom span a dashboard draws day by day
# Dates a custom period may use: at the calendar's edges the period before, or the day after the
# last, would not exist.
FIRST_YEAR = 2000
LAST_YEAR = 2100


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The same number of days just before this period."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def clipped(self, today: date) -> Period | None:
        """The part of the period up to today; None if it has not started."""
        if self.first > today:
            return None
        return Period(self.first, min(self.last, today))


class BadPeriod(ValueError):
    """A custom period that cannot be drawn (the message is for people)."""


def last_days(days: int, today: date) -> Period:
    return Period(today - timedelta(days=days - 1), today)


def from_params(params: Mapping[str, str], today: date) -> Period:
    """`?days=7|30|90|365`, or `?from=YYYY-MM-DD&to=YYYY-MM-DD`. Raises BadPeriod for a bad custom one."""
    from django.utils.translation import gettext as _

    first, last = params.get("from", "").strip(), params.get("to", "").strip()
    if first or last:
        try:
            period = Period(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            raise BadPeriod(_("Give both dates of the period as YYYY-MM-DD.")) from None
        if not (period.first.year >= FIRST_YEAR and period.last.year <= LAST_YEAR):
            raise BadPeriod(
                _("Give dates between the years %(first)d and %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        if period.last < period.first:
            raise BadPeriod(_("The period ends before it starts."))
        if period.days > MAX_DAYS:
            raise BadPeriod(_("A period can be at most %(days)d days long.") % {"days": MAX_DAYS})
        return period
    try:
        days = int(params.get("days", DEFAULT_DAYS))
    except (TypeError, ValueError):
        days = DEFAULT_DAYS
    return last_days(days if days in PRESETS else DEFAULT_DAYS, today)
