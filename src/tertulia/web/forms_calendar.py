"""Forms of the calendar (/publish/calendar/) and the queue (/publish/queue/).

They only parse what people send; `tertulia.publishing.actions.compose.set_time` and
`tertulia.publishing.actions.queue.set_slots` check the values again and store them.

Times people type are wall-clock times in the brand's time zone (a datetime-local input has none),
read as the composer reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.publishing.actions.queue import MAX_SLOTS, Slot
from tertulia.web import forms_compose as compose_forms

# The calendar's range: far enough either way for any real plan, and every instant in it fits in UTC.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
# More rows than this are never read (the action refuses more than MAX_SLOTS slots anyway).
MAX_ROWS = MAX_SLOTS + 20
# Row choices that stand for several days.
DAY_GROUPS: dict[str, tuple[int, ...]] = {
    "weekdays": (0, 1, 2, 3, 4),
    "weekend": (5, 6),
    "every": (0, 1, 2, 3, 4, 5, 6),
}


def day_choices() -> list[tuple[str, str]]:
    return [
        ("", "—"),
        *[(str(number), str(name)) for number, name in WEEKDAYS.items()],
        ("weekdays", _("Monday to Friday")),
        ("weekend", _("Saturday and Sunday")),
        ("every", _("Every day")),
    ]


def parse_local(value: str) -> datetime | None:
    """A datetime-local value ("2026-05-04T09:30"), or None if it is not one we accept."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if not FIRST_DAY <= parsed.date() <= LAST_DAY:
        return None
    return parsed


class MoveForm(forms.Form):
    """A post's new time, as typed in the chip's form or set by dragging it, on the brand's clock.

    Read like the composer reads its time (`forms_compose.parse_local`): a time the clocks skip
    is refused, one they repeat is its first occurrence.
    """

    when = forms.CharField(label=_lazy("New time"), max_length=40)

    def __init__(self, *args: Any, zone: tzinfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_when(self) -> datetime:
        typed = self.cleaned_data["when"]
        if parse_local(typed) is None:
            raise forms.ValidationError(_("Write the date and time as 2026-10-31 18:30."))
        when = compose_forms.parse_local(typed, self.zone)
        if when is None:
            raise forms.ValidationError(_("Write the date and time as 2026-10-31 18:30."))
        return when


def parse_slot_rows(days: Sequence[str], times: Sequence[str]) -> tuple[list[Slot], list[str]]:
    """The queue editor's rows (a day choice and a time each) as slots, and what is wrong with them.

    A row with no day ("—") is left out (that is how a slot is removed); a day group
    ("Monday to Friday") makes a slot on each of its days.
    """
    errors: list[str] = []
    if len(days) > MAX_ROWS or len(times) > MAX_ROWS:
        return [], [_("A channel has at most %(n)d queue slots.") % {"n": MAX_SLOTS}]
    slots: list[Slot] = []
    for number, (day, typed) in enumerate(zip(days, times, strict=False), start=1):
        day, typed = day.strip(), typed.strip()
        if not day:
            continue
        if not typed:
            errors.append(_("Row %(n)d: choose a time.") % {"n": number})
            continue
        try:
            at = time.fromisoformat(typed)
        except ValueError:
            errors.append(_("Row %(n)d: enter a time like 09:30.") % {"n": number})
            continue
        if day in DAY_GROUPS:
            weekdays: tuple[int, ...] = DAY_GROUPS[day]
        elif day in {str(number) for number in WEEKDAYS}:
            weekdays = (int(day),)
        else:
            errors.append(_("Row %(n)d: choose a day.") % {"n": number})
            continue
        slots.extend((weekday, at) for weekday in weekdays)
    return slots, errors
