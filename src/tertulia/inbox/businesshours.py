"""Business-hours arithmetic for inbox SLA clocks.

A brand promises to answer within, say, one *business* hour: a complaint that arrives on Friday at
18:30, on a Monday-to-Friday 09:00-19:00 schedule, is due on Monday at 09:30. This module answers the
questions an SLA clock asks of a schedule (`BusinessHours`): when is a target due
(`add_business_time`), how much business time has passed (`business_time_between`, and
`elapsed_with_pauses` for clocks that stop while waiting on the customer), is the brand open now
(`is_open`) and when does it open next (`next_opening`). Everything here is a pure function of its
arguments: no models, no database, no clock.

A schedule is written in local wall-clock time, because that is how a brand states it ("we open at
nine"), and turned into UTC spans one local day at a time. Daylight-saving changes are handled like this:

* **Nonexistent times** (the hour skipped when clocks spring forward) are skipped: a wall time in the
  gap means the instant the clocks jump. An interval 02:30-04:00 on the day Madrid jumps from 02:00 to
  03:00 opens at 03:00 and lasts one hour; an interval 02:00-03:00 that day does not open at all.
* **Ambiguous times** (the hour repeated when clocks fall back) mean their *first* occurrence, for the
  start and the end of an interval alike (`fold=0`, Python's default). An interval 02:30-04:00 on the
  day Madrid falls back from 03:00 to 02:00 opens at 02:30 summer time and closes at 04:00 winter time
  (2.5 hours); one ending at 02:30 closes the first time the clock reads 02:30. An interval spanning the
  whole repeated hour, such as 00:00-24:00, simply lasts an hour longer, as the clock on the wall says.
  Reading both ends the same way keeps touching intervals (14:00-15:00 and 15:00-16:00) contiguous.

Every datetime passed in must be timezone-aware; every datetime returned is aware and in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

# An open interval within one local day, as minutes after local midnight: 0 <= start < end <= 1440.
# Minutes rather than `datetime.time` because a day's last interval may end at 24:00, which `time`
# cannot represent. Intervals crossing midnight are written as two (22:00-24:00 and 00:00-02:00).
Interval = tuple[int, int]

# Named in messages rather than "mon" or "sun", because people read them in their own language.
_DAY_NAMES = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
# Only the calendar form: date.fromisoformat also takes "20261225" and week dates such as "2026-W52-5".
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BusinessHours:
    """A brand's working schedule: when its SLA clocks run.

    `week` holds seven tuples of intervals, Monday first; an empty tuple is a closed day. `holidays` are
    local dates on which the brand is closed all day. The constructor validates and normalises
    (intervals sorted), so every instance is usable; `from_dict` and `to_dict` convert to and from the
    JSON-able form kept in the database.
    """

    timezone: str
    week: tuple[tuple[Interval, ...], ...] = ((),) * 7
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _check_timezone(self.timezone)
        if len(self.week) != len(WEEKDAYS):
            raise ValueError(_("A week needs exactly seven days of opening hours."))
        week = tuple(_check_day(index, day) for index, day in enumerate(self.week))
        holidays = frozenset(self.holidays)
        for holiday in holidays:
            # A datetime is a date too, and would never equal the local dates it is compared with.
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise ValueError(_("A holiday must be a date, got %(value)r.") % {"value": holiday})
        # Frozen, so normalised values are set past the dataclass's guard.
        object.__setattr__(self, "week", week)
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def always(cls, timezone: str) -> BusinessHours:
        """Open around the clock, every day (24/7): business time is plain elapsed time."""
        return cls(timezone=timezone, week=(((0, MINUTES_PER_DAY),),) * 7)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessHours:
        """Parse the stored form, e.g.

        ``{"timezone": "Europe/Madrid", "week": {"mon": [["09:00", "14:00"], ["16:00", "19:00"]]},
        "holidays": ["2026-12-25"]}``. Weekdays left out are closed. Raises ValueError with a message fit
        to show in a form.
        """
        if not isinstance(data, Mapping):
            raise ValueError(_("Business hours must be an object with a time zone and a week."))
        unknown = sorted(str(key) for key in data if key not in {"timezone", "week", "holidays"})
        if unknown:
            raise ValueError(_("Unknown business-hours field: %(name)s.") % {"name": ", ".join(unknown)})
        if "timezone" not in data:
            raise ValueError(_("Business hours need a time zone."))

        week_data = data.get("week", {})
        if not isinstance(week_data, Mapping):
            raise ValueError(_("The week must map weekdays (mon to sun) to lists of intervals."))
        for key in week_data:
            if key not in WEEKDAYS:
                raise ValueError(
                    _("Unknown weekday %(name)r: use mon, tue, wed, thu, fri, sat or sun.") % {"name": key}
                )
        week = tuple(_parse_day(index, week_data.get(name, [])) for index, name in enumerate(WEEKDAYS))

        holiday_data = data.get("holidays", [])
        if not isinstance(holiday_data, list | tuple):
            raise ValueError(_("Holidays must be a list of dates (YYYY-MM-DD)."))
        return cls(
            timezone=data["timezone"], week=week, holidays=frozenset(map(_parse_holiday, holiday_data))
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form that `from_dict` reads back; closed weekdays are left out."""
        return {
            "timezone": self.timezone,
            "week": {
                name: [[_format_clock(start), _format_clock(end)] for start, end in day]
                for name, day in zip(WEEKDAYS, self.week, strict=True)
                if day
            },
            "holidays": [holiday.isoformat() for holiday in sorted(self.holidays)],
        }

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by key, so this is cheap

    @property
    def ever_open(self) -> bool:
        """Whether any weekday has opening hours (holidays aside)."""
        return any(self.week)


# --- The four questions ------------------------------------------------------------------------------


def add_business_time(hours: BusinessHours, start: datetime, duration: timedelta) -> datetime:
    """The earliest instant by which `duration` of business time has elapsed since `start`.

    A start outside business hours counts from the next opening. A duration that ends exactly at a
    closing time is due at that closing time, not at the next opening; a zero duration is due at
    `start` itself. Raises ValueError for a negative duration, or a positive one on a schedule that
    never opens.
    """
    start = _as_utc(start, "start")
    if duration < _ZERO:
        raise ValueError(_("An SLA target cannot be negative."))
    if duration == _ZERO:
        return start
    remaining = duration
    for opens, closes in _open_spans(hours, start):
        if closes <= start:
            continue
        available = closes - max(opens, start)
        if remaining <= available:
            return max(opens, start) + remaining
        remaining -= available
    raise AssertionError("unreachable: _open_spans without an end never stops")  # pragma: no cover


def business_time_between(hours: BusinessHours, start: datetime, end: datetime) -> timedelta:
    """The business time elapsed from `start` to `end`; zero if `end` is not after `start`."""
    start, end = _as_utc(start, "start"), _as_utc(end, "end")
    if end <= start:
        return _ZERO
    total = _ZERO
    for opens, closes in _open_spans(hours, start, until=end):
        if opens >= end:
            break
        if closes > start:
            total += min(closes, end) - max(opens, start)
    return total


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether `at` falls within business hours (an interval includes its opening, not its closing)."""
    at = _as_utc(at, "at")
    return any(opens <= at < closes for opens, closes in _open_spans(hours, at, until=at))


def next_opening(hours: BusinessHours, at: datetime) -> datetime:
    """The earliest instant at or after `at` when business is open: `at` itself if open then.

    Raises ValueError on a schedule that never opens.
    """
    at = _as_utc(at, "at")
    for opens, closes in _open_spans(hours, at):
        if closes > at:
            return max(opens, at)
    raise AssertionError("unreachable: _open_spans without an end never stops")  # pragma: no cover


def elapsed_with_pauses(
    hours: BusinessHours,
    start: datetime,
    end: datetime,
    pauses: Sequence[tuple[datetime, datetime | None]],
) -> timedelta:
    """Business time from `start` to `end` that the SLA clock ran, i.e. outside every pause.

    A pause whose end is None is still running and lasts until `end` (if it began by then). Parts of
    pauses outside `start`-`end` are ignored, and time covered by several overlapping pauses is
    subtracted once. Raises ValueError for a pause that ends before it starts.
    """
    start, end = _as_utc(start, "start"), _as_utc(end, "end")
    if end <= start:
        return _ZERO
    clipped: list[tuple[datetime, datetime]] = []
    for paused, resumed in pauses:
        paused = _as_utc(paused, "pause start")
        # A pause still running counts up to `end`; one that began after `end` takes nothing.
        resumed = max(end, paused) if resumed is None else _as_utc(resumed, "pause end")
        if resumed < paused:
            raise ValueError(_("A pause cannot end before it starts."))
        paused, resumed = max(paused, start), min(resumed, end)
        if paused < resumed:
            clipped.append((paused, resumed))

    # Merge overlapping pauses first: subtracting each one separately would count shared time twice.
    merged: list[tuple[datetime, datetime]] = []
    for paused, resumed in sorted(clipped):
        if merged and paused <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], resumed))
        else:
            merged.append((paused, resumed))

    running = business_time_between(hours, start, end)
    for paused, resumed in merged:
        running -= business_time_between(hours, paused, resumed)
    return running


# --- From a weekly schedule to UTC spans -------------------------------------------------------------


def _open_spans(
    hours: BusinessHours, start: datetime, until: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """The schedule's open spans in UTC, in order and never overlapping, one interval at a time.

    A day's intervals end by the next local midnight, so spans from the days before `start`'s local
    date cannot reach it; the walk still begins (and, with `until`, ends) one day wide, a cheap margin
    for zones whose calendar steps backwards when they fall back across midnight. Without `until` the
    spans go on forever, so the walk is bounded instead: it raises ValueError once it has seen more
    closed days in a row than the schedule can have.
    """
    tz = hours.tzinfo
    if until is None and not hours.ever_open:
        raise ValueError(_("These business hours never open, so no SLA time can pass."))
    # Within any 7 days in a row every open weekday comes round once, so a closed run that long
    # needs a holiday; DST gaps (which can swallow an interval) get a week of slack.
    max_closed_run = 7 * (len(hours.holidays) + 2)
    closed_run = 0
    try:  # the calendar ends at year 9999 (and starts at year 1)
        day = start.astimezone(tz).date() - _ONE_DAY
        last_day = until.astimezone(tz).date() + _ONE_DAY if until is not None else date.max
        while day <= last_day:
            found = False
            if day not in hours.holidays:
                for start_minute, end_minute in hours.week[day.weekday()]:
                    opens = _wall_to_utc(tz, day, start_minute)
                    closes = _wall_to_utc(tz, day, end_minute)
                    if opens < closes:  # empty when the whole interval falls in a DST gap
                        found = True
                        yield opens, closes
            closed_run = 0 if found else closed_run + 1
            if until is None and closed_run > max_closed_run:
                raise ValueError(_("These business hours never open, so no SLA time can pass."))
            day += _ONE_DAY
    except OverflowError:
        raise ValueError(_("That date is too far from today to compute business hours for.")) from None


def _wall_to_utc(tz: ZoneInfo, day: date, minute: int) -> datetime:
    """The UTC instant of a local wall-clock time, with the module's rules for DST gaps and folds."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + _ONE_DAY, 0
    naive = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
    first = naive.replace(tzinfo=tz).utcoffset()
    second = naive.replace(tzinfo=tz, fold=1).utcoffset()
    assert first is not None and second is not None  # a ZoneInfo always has an offset
    as_first = (naive - first).replace(tzinfo=UTC)
    if first == second:
        return as_first
    # Either a fold (the time happens twice; fold=0 is the first) or a gap (it never happens): in a
    # fold, the first reading converts back to the same wall time.
    if as_first.astimezone(tz).replace(tzinfo=None) == naive:
        return as_first
    # In a gap, fold=0 reads the time with the offset from before the jump and lands after it, fold=1
    # with the offset from after and lands before it; the jump itself lies in between.
    return _transition(tz, (naive - second).replace(tzinfo=UTC), as_first)


def _transition(tz: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The instant in (before, after] at which the offset changes, to the second.

    zoneinfo does not expose its transition table, so this bisects; it runs only for wall times inside
    a DST gap, and a gap is at most a day (about 17 steps).
    """
    offset_before = before.astimezone(tz).utcoffset()
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if (before + timedelta(seconds=middle)).astimezone(tz).utcoffset() == offset_before:
            low = middle
        else:
            high = middle
    return before + timedelta(seconds=high)


# --- Validation and parsing --------------------------------------------------------------------------


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(
            _("%(name)s must be a date and time, got %(value)r.") % {"name": name, "value": value}
        )
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive time could be server time, local time or UTC; guessing would move deadlines by hours.
        raise ValueError(_("%(name)s must include a time zone.") % {"name": name})
    return value.astimezone(UTC)


def _check_timezone(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(_("The time zone must be a name such as Europe/Madrid."))
    # "localtime" is the server's own zone: a brand's hours must not change when the server moves.
    if name == "localtime":
        raise ValueError(_("Unknown time zone %(name)r: use a name such as Europe/Madrid.") % {"name": name})
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found, not a relative key, a directory, unreadable
        raise ValueError(
            _("Unknown time zone %(name)r: use a name such as Europe/Madrid.") % {"name": name}
        ) from None


def _check_day(weekday: int, intervals: object) -> tuple[Interval, ...]:
    name = str(_DAY_NAMES[weekday])  # in the language active now
    if not isinstance(intervals, list | tuple):
        raise ValueError(_("The hours for %(day)s must be a list of intervals.") % {"day": name})
    checked: list[Interval] = []
    for interval in intervals:
        if (
            not isinstance(interval, list | tuple)
            or len(interval) != 2
            or not all(isinstance(m, int) and not isinstance(m, bool) for m in interval)
        ):
            raise ValueError(
                _("Each interval on %(day)s must be a start and an end, got %(value)r.")
                % {"day": name, "value": interval}
            )
        start, end = interval
        if not (0 <= start < MINUTES_PER_DAY and 0 < end <= MINUTES_PER_DAY):
            raise ValueError(_("An interval on %(day)s lies outside the day.") % {"day": name})
        if end <= start:
            raise ValueError(
                _(
                    "An interval on %(day)s must end after it starts, not %(start)s-%(end)s; "
                    "split one that crosses midnight in two, the first ending at 24:00."
                )
                % {"day": name, "start": _format_clock(start), "end": _format_clock(end)}
            )
        checked.append((start, end))
    checked.sort()
    for (start, end), (next_start, next_end) in pairwise(checked):
        if next_start < end:  # touching (14:00-15:00, 15:00-16:00) is fine
            raise ValueError(
                _("Intervals %(first)s and %(second)s on %(day)s overlap.")
                % {
                    "day": name,
                    "first": f"{_format_clock(start)}-{_format_clock(end)}",
                    "second": f"{_format_clock(next_start)}-{_format_clock(next_end)}",
                }
            )
    return tuple(checked)


def _parse_day(weekday: int, intervals: object) -> tuple[Interval, ...]:
    name = str(_DAY_NAMES[weekday])  # in the language active now
    if not isinstance(intervals, list | tuple):
        raise ValueError(_("The hours for %(day)s must be a list of intervals.") % {"day": name})
    parsed: list[Interval] = []
    for interval in intervals:
        if not isinstance(interval, list | tuple) or len(interval) != 2:
            raise ValueError(
                _('Each interval on %(day)s must be a pair such as ["09:00", "14:00"], got %(value)r.')
                % {"day": name, "value": interval}
            )
        start, end = (_parse_clock(name, text) for text in interval)
        if start == MINUTES_PER_DAY:
            raise ValueError(_("24:00 can only end an interval (on %(day)s).") % {"day": name})
        parsed.append((start, end))
    return tuple(parsed)  # _check_day, via the constructor, checks order and overlaps


def _parse_clock(day: str, text: object) -> int:
    match = _CLOCK.fullmatch(text) if isinstance(text, str) else None
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        if (hour < 24 and minute < 60) or (hour, minute) == (24, 0):
            return hour * 60 + minute
    raise ValueError(
        _("Invalid time %(value)r on %(day)s: use HH:MM, from 00:00 to 24:00.") % {"value": text, "day": day}
    )


def _parse_holiday(text: object) -> date:
    if isinstance(text, str) and _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:  # well formed but no such day, such as 2026-02-30
            pass
    raise ValueError(_("Invalid holiday %(value)r: use a date such as 2026-12-25.") % {"value": text})


def _format_clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
