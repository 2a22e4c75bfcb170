"""Forms of the brand's inbox settings page (/settings/inbox/).

They only parse what people type; the values are checked again, and stored, by
tertulia.inbox.actions.settings, so the page and the API refuse the same things.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.core.models import Brand, User
from tertulia.inbox.actions.settings import MAX_TARGET_MINUTES, MAX_WARN_MINUTES, clean_business_hours
from tertulia.inbox.businesshours import WEEKDAYS, BusinessHours
from tertulia.inbox.models import Assignment, InboxSettings, Intent, SavedReply, SlaPolicy

DAY_LABELS = {
    "mon": _lazy("Monday"),
    "tue": _lazy("Tuesday"),
    "wed": _lazy("Wednesday"),
    "thu": _lazy("Thursday"),
    "fri": _lazy("Friday"),
    "sat": _lazy("Saturday"),
    "sun": _lazy("Sunday"),
}
# "09:00-14:00, 16:00-19:00"; spaces, an en dash or an em dash between the times are forgiven.
_INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}:\d{2})\s*$")
_SEPARATORS = re.compile(r"[,;\n]+")


def _minutes_field(label: str | Any, low: int, high: int, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=low, max_value=high, **kwargs)


def parse_intervals(text: str) -> list[list[str]]:
    """'09:00-14:00, 16:00-19:00' → [['09:00', '14:00'], ['16:00', '19:00']]; '' → [] (closed)."""
    intervals = []
    for part in _SEPARATORS.split(text):
        if not part.strip():
            continue
        match = _INTERVAL.match(part)
        if match is None:
            raise ValidationError(
                _("Write opening hours as 09:00-14:00, separated by commas (not “%(value)s”).")
                % {"value": part.strip()[:40]}
            )
        start, end = match.groups()
        intervals.append([start.zfill(5), end.zfill(5)])
    return intervals


def format_intervals(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


class SlaPolicyForm(forms.Form):
    """Targets, warning time and business hours in one form: they are one policy."""

    first_response_minutes = _minutes_field(_lazy("First response within (minutes)"), 1, MAX_TARGET_MINUTES)
    next_response_minutes = _minutes_field(_lazy("Next response within (minutes)"), 1, MAX_TARGET_MINUTES)
    critical_response_minutes = _minutes_field(
        _lazy("Critical messages within (minutes)"), 1, MAX_TARGET_MINUTES
    )
    warn_before_minutes = _minutes_field(
        _lazy("Warn this many minutes before the answer is due"),
        0,
        MAX_WARN_MINUTES,
        help_text=_lazy("0: no warning, only the escalation when the answer is overdue."),
    )
    always_open = forms.BooleanField(
        label=_lazy("Count time around the clock (every day, 24 hours)"),
        required=False,
        help_text=_lazy("Otherwise the clock only runs during the opening hours below."),
    )
    timezone = forms.CharField(label=_lazy("Time zone of the opening hours"), max_length=64, required=False)
    holidays = forms.CharField(
        label=_lazy("Holidays (closed all day)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_lazy("Dates such as 2026-12-25, separated by commas or new lines."),
    )

    def __init__(self, data: Any = None, *, policy: SlaPolicy, brand: Brand) -> None:
        super().__init__(data, initial=self._initial(policy, brand))
        self.brand = brand
        # One target per intent and one opening-hours field per weekday, made from the lists.
        for intent in Intent:
            self.fields[f"intent_{intent.value}"] = _minutes_field(
                _("%(intent)s within (minutes)") % {"intent": intent.label},
                1,
                MAX_TARGET_MINUTES,
                required=False,
            )
        for day in WEEKDAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                label=DAY_LABELS[day],
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "09:00-14:00, 16:00-20:00"}),
            )

    @staticmethod
    def _initial(policy: SlaPolicy, brand: Brand) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "first_response_minutes": policy.first_response_minutes,
            "next_response_minutes": policy.next_response_minutes,
            "critical_response_minutes": policy.critical_response_minutes,
            "warn_before_minutes": policy.warn_before_minutes,
        }
        targets = policy.intent_targets if isinstance(policy.intent_targets, dict) else {}
        for intent in Intent:
            initial[f"intent_{intent.value}"] = targets.get(intent.value)
        hours = policy.business_hours if isinstance(policy.business_hours, dict) else {}
        initial["always_open"] = not hours
        initial["timezone"] = hours.get("timezone") or brand.timezone
        week = hours.get("week") or {}
        for day in WEEKDAYS:
            initial[f"hours_{day}"] = format_intervals(week.get(day) or [])
        initial["holidays"] = ", ".join(hours.get("holidays") or [])
        return initial

    def target_fields(self) -> list[forms.BoundField]:
        names = ("first_response_minutes", "next_response_minutes", "critical_response_minutes")
        return [self[name] for name in (*names, "warn_before_minutes")]

    def intent_fields(self) -> list[forms.BoundField]:
        return [self[f"intent_{intent.value}"] for intent in Intent]

    def hours_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("always_open"):
            cleaned["business_hours"] = {}
            return cleaned
        # Each weekday on its own first, so an error sits next to the day it is about.
        week: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            name = f"hours_{day}"
            if name not in cleaned:
                continue  # its own field error is shown already
            try:
                intervals = parse_intervals(cleaned[name])
                BusinessHours.from_dict({"timezone": "UTC", "week": {day: intervals}})
            except ValidationError as exc:
                self.add_error(name, exc)
                continue
            except ValueError as exc:
                self.add_error(name, str(exc))
                continue
            if intervals:
                week[day] = intervals
        timezone = (cleaned.get("timezone") or "").strip()
        try:
            BusinessHours.from_dict({"timezone": timezone})
        except ValueError as exc:
            self.add_error("timezone", str(exc))
        holidays = [h for h in _SEPARATORS.split((cleaned.get("holidays") or "").replace(" ", "\n")) if h]
        try:
            BusinessHours.from_dict({"timezone": "UTC", "holidays": holidays})
        except ValueError as exc:
            self.add_error("holidays", str(exc))
        if self.errors:
            return cleaned
        try:
            cleaned["business_hours"] = clean_business_hours(
                {"timezone": timezone, "week": week, "holidays": holidays}
            )
        except ValueError as exc:
            self.add_error(None, str(exc))
        return cleaned

    def policy_values(self) -> dict[str, Any]:
        """The keyword arguments of update_sla_policy."""
        data = self.cleaned_data
        return {
            "first_response_minutes": data["first_response_minutes"],
            "next_response_minutes": data["next_response_minutes"],
            "critical_response_minutes": data["critical_response_minutes"],
            "warn_before_minutes": data["warn_before_minutes"],
            "intent_targets": {
                intent.value: data[f"intent_{intent.value}"]
                for intent in Intent
                if data.get(f"intent_{intent.value}") is not None
            },
            "business_hours": data["business_hours"],
        }


class InboxSettingsForm(forms.Form):
    assignment = forms.ChoiceField(
        label=_lazy("How new conversations are assigned"), choices=Assignment.choices
    )
    escalate_to = forms.TypedChoiceField(
        label=_lazy("Escalations go to"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_lazy("Nobody chosen: the organization's owners, admins and brand managers."),
    )

    def __init__(self, data: Any = None, *, settings: InboxSettings | None, people: list[User]) -> None:
        super().__init__(
            data,
            initial={
                "assignment": settings.assignment if settings else Assignment.MANUAL,
                "escalate_to": settings.escalate_to_id if settings else None,
            },
        )
        self.people = {person.pk: person for person in people}
        field = self.fields["escalate_to"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("The brand's managers")), *((p.pk, str(p)) for p in people)]

    def chosen_person(self) -> User | None:
        pk = self.cleaned_data.get("escalate_to")
        return self.people.get(pk) if pk is not None else None


class SavedReplyForm(forms.Form):
    shortcut = forms.CharField(
        label=_lazy("Shortcut"),
        max_length=41,
        help_text=_lazy("Typed after a slash in the reply box, as in /envio."),
    )
    language = forms.CharField(label=_lazy("Language"), max_length=8, help_text=_lazy("es, en, pt-BR…"))
    title = forms.CharField(label=_lazy("Title"), max_length=120)
    body = forms.CharField(label=_lazy("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, data: Any = None, *, reply: SavedReply | None = None, brand: Brand) -> None:
        initial = (
            {"shortcut": reply.shortcut, "language": reply.language, "title": reply.title, "body": reply.body}
            if reply is not None
            else {"language": brand.language}
        )
        super().__init__(data, initial=initial, prefix="reply")


class TagRenameForm(forms.Form):
    name = forms.CharField(label=_lazy("New name"), max_length=200)
