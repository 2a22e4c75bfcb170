"""Reading the on-call forms: plain POST fields into typed values, or a clear error (never a 500)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, time
from functools import cache

from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from tertulia.core.zones import zone
from tertulia.teamops.actions import MAX_MEMBERS, RotationInput
from tertulia.teamops.oncall import wall_to_utc

_LOCAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{2}):(\d{2})(?::\d{2})?")
_SPAN = re.compile(r"\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EXTRA_ROWS = 3
MAX_FIELD = 100


class FormError(ValueError):
    """What is wrong with the input, fit to show."""


@cache
def timezones() -> list[str]:
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


def an_id(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 18 else None


def local_instant(value: str, tz: str, what: str) -> datetime:
    """A `datetime-local` field read in the time zone `tz`, as UTC."""
    match = _LOCAL.fullmatch(value.strip()[:MAX_FIELD])
    if match is None:
        raise FormError(_("%(what)s: give a date and a time.") % {"what": what})
    try:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        naive = datetime(year, month, day, hour, minute)
    except ValueError:
        raise FormError(_("%(what)s: there is no such date or time.") % {"what": what}) from None
    if not 2000 <= year <= 2100:  # the calendar's edges overflow once shifted to UTC
        raise FormError(_("%(what)s: give a date between the years 2000 and 2100.") % {"what": what})
    return wall_to_utc(zone(tz), naive.date(), naive.time())


def a_timezone(value: str) -> str:
    value = value.strip()
    if value not in timezones():
        raise FormError(_("Choose a time zone from the list."))
    return value


def rotation_input(post: QueryDict) -> RotationInput:
    name = post.get("name", "")[:1000]
    raw_days = post.get("shift_days", "").strip()
    if not (raw_days.isascii() and raw_days.isdigit()) or len(raw_days) > 3:
        raise FormError(_("The shift length is a whole number of days."))
    raw_weekday = post.get("handover_weekday", "").strip()
    if raw_weekday and (not (raw_weekday.isascii() and raw_weekday.isdigit()) or int(raw_weekday) > 6):
        raise FormError(_("Choose a weekday."))
    clock = _TIME.fullmatch(post.get("handover_time", "").strip()[:MAX_FIELD])
    if clock is None or int(clock[1]) > 23 or int(clock[2]) > 59:
        raise FormError(_("The hand-over time is a time such as 09:00."))
    raw_start = post.get("starts_on", "").strip()[:MAX_FIELD]
    try:
        if not _DATE.fullmatch(raw_start):
            raise ValueError
        starts_on = date.fromisoformat(raw_start)
    except ValueError:
        raise FormError(_("The first shift's date is a date such as 2026-01-05.")) from None
    brand_ids = [pk for pk in (an_id(v) for v in post.getlist("brands")[:500]) if pk is not None]
    members: list[int] = []
    for index in range(MAX_MEMBERS + EXTRA_ROWS):
        raw = post.get(f"member_{index}", "").strip()
        if not raw:
            continue
        pk = an_id(raw)
        if pk is None:
            raise FormError(_("Choose a person on each line."))
        members.append(pk)
    return RotationInput(
        name=name,
        timezone=a_timezone(post.get("timezone", "")),
        all_brands=post.get("all_brands") == "on",
        brand_ids=brand_ids,
        shift_days=int(raw_days),
        handover_time=time(int(clock[1]), int(clock[2])),
        handover_weekday=int(raw_weekday) if raw_weekday else None,
        starts_on=starts_on,
        member_ids=members,
        is_active=post.get("is_active") == "on",
    )


def working_week(request: HttpRequest) -> dict[str, list[list[str]]]:
    """Per weekday, "09:00-14:00, 16:00-19:00" (empty: not working that day) into the schedule form."""
    week: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        raw = request.POST.get(f"hours_{day}", "").strip()[:MAX_FIELD]
        if not raw:
            continue
        spans = []
        for part in raw.split(","):
            match = _SPAN.fullmatch(part)
            if match is None:
                raise FormError(
                    _("Write the hours as 09:00-14:00, separated by commas (%(value)s).") % {"value": raw}
                )
            start, end = (t if len(t) == 5 else "0" + t for t in match.groups())
            spans.append([start, end])
        week[day] = spans
    return week


def week_text(week: dict[str, list[list[str]]]) -> dict[str, str]:
    return {day: ", ".join(f"{a}-{b}" for a, b in week.get(day, [])) for day in WEEKDAYS}
