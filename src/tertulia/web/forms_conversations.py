"""The inbox's forms: the list's filters, and what a person types on a conversation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tertulia.inbox.actions.bulk import BULK_ACTIONS
from tertulia.inbox.actions.notes import MAX_NOTE
from tertulia.inbox.actions.replies import MAX_REPLY
from tertulia.inbox.models import Intent, Kind, Sentiment, Status
from tertulia.inbox.selectors import ASSIGNEE_ME, ASSIGNEE_NONE, DUE_BREACHED, DUE_SOON, ConversationQuery

ALL = "all"
STATUS_CHOICES = [*Status.choices, (ALL, _("All"))]
ASSIGNEE_CHOICES = [("", _("Anyone")), (ASSIGNEE_ME, _("Mine")), (ASSIGNEE_NONE, _("Unassigned"))]
DUE_CHOICES = [("", _("Any time")), (DUE_SOON, _("Due soon")), (DUE_BREACHED, _("Overdue"))]


def _with_any(choices: Sequence[tuple[str, object]]) -> list[tuple[str, object]]:
    return [("", _("Any")), *choices]


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    assignee = forms.ChoiceField(label=_("Assigned to"), choices=ASSIGNEE_CHOICES, required=False)
    channel = forms.TypedChoiceField(label=_("Channel"), coerce=int, empty_value=None, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=_with_any(Kind.choices), required=False)
    intent = forms.ChoiceField(label=_("Intent"), choices=_with_any(Intent.choices), required=False)
    sentiment = forms.ChoiceField(label=_("Sentiment"), choices=_with_any(Sentiment.choices), required=False)
    language = forms.CharField(label=_("Language"), max_length=8, required=False)
    tag = forms.CharField(label=_("Tag"), max_length=50, required=False)
    due = forms.ChoiceField(label=_("Answer by"), choices=DUE_CHOICES, required=False)
    escalated = forms.BooleanField(label=_("Escalated only"), required=False)
    q = forms.CharField(label=_("Search"), max_length=200, required=False)

    def __init__(
        self, *args: object, channels: list[tuple[int, str]] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # Form's signature is untyped
        self.fields["channel"].choices = [("", _("All channels")), *(channels or [])]  # type: ignore[attr-defined]  # a ChoiceField, typed as Field

    def query(self) -> ConversationQuery:
        """The filters as the selector takes them; invalid values fall back to "any"."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or Status.OPEN
        return ConversationQuery(
            statuses=() if status == ALL else (status,),
            assignee=data.get("assignee") or "",
            channel_id=data.get("channel"),
            kind=data.get("kind") or "",
            intent=data.get("intent") or "",
            sentiment=data.get("sentiment") or "",
            language=(data.get("language") or "").strip().lower(),
            tag=(data.get("tag") or "").strip().casefold(),
            due=data.get("due") or "",
            escalated=True if data.get("escalated") else None,
            q=data.get("q") or "",
        )


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply"), max_length=MAX_REPLY, widget=forms.Textarea(attrs={"rows": 4}))
    # One per page load: a double submit sends one reply.
    idempotency_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    then = forms.ChoiceField(
        choices=[("", _("Send")), (Status.PENDING, _("Send and wait")), (Status.CLOSED, _("Send and close"))],
        required=False,
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note"), max_length=MAX_NOTE, widget=forms.Textarea(attrs={"rows": 2})
    )


SNOOZE_CHOICES = [
    ("1h", _("One hour")),
    ("3h", _("Three hours")),
    ("tomorrow", _("Tomorrow morning")),
    ("week", _("Next week")),
]


def snooze_until(choice: str, now: datetime | None = None) -> datetime | None:
    """A snooze preset as a moment, in the current time zone (mornings are 9:00 there)."""
    now = timezone.localtime(now or timezone.now())
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "3h":
        return now + timedelta(hours=3)
    if choice in ("tomorrow", "week"):
        days = 1 if choice == "tomorrow" else 7 - now.weekday()
        day = (now + timedelta(days=days)).date()
        return timezone.make_aware(datetime.combine(day, time(9, 0)), now.tzinfo)
    return None


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    snooze = forms.ChoiceField(choices=SNOOZE_CHOICES, required=False)
    until = forms.DateTimeField(required=False)


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in BULK_ACTIONS])
    ids = forms.CharField(max_length=10_000)
    assignee = forms.IntegerField(required=False)
    tag = forms.CharField(max_length=50, required=False)

    def clean_ids(self) -> list[int]:
        raw = self.cleaned_data["ids"]
        parts = [p for p in raw.replace(",", " ").split() if p]
        if not parts or not all(p.isdigit() for p in parts):
            raise forms.ValidationError(_("Choose at least one conversation."))
        return [int(p) for p in parts][:500]


class AvailabilityForm(forms.Form):
    available = forms.BooleanField(label=_("I take new conversations"), required=False)
    capacity = forms.IntegerField(
        label=_("at most"),
        min_value=0,
        max_value=10_000,
        help_text=_("open conversations at once (0: no limit)"),
    )
