"""Forms of the contact page: what people may change about a contact, and merging two into one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tertulia.core.actions.contacts import MAX_REASON
from tertulia.core.models import Contact

MAX_NOTES = 20_000  # as the API's limit for long text
MAX_ID = 2**63 - 1


class ContactForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=255)
    is_customer = forms.BooleanField(
        label=_("Customer"),
        required=False,
        help_text=_("They buy from the brand: a complaint is a customer's."),
    )
    is_vip = forms.BooleanField(
        label=_("VIP"),
        required=False,
        help_text=_("Treat them with care whatever their reach (a journalist, a partner)."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
        required=False,
        max_length=MAX_NOTES,
        help_text=_("Seen by everyone in the organization who may see contacts."),
    )

    def __init__(self, data: Any = None, *, contact: Contact) -> None:
        initial = {name: getattr(contact, name) for name in self.base_fields}
        super().__init__(data, initial=initial)

    def disable(self) -> None:
        for field in self.fields.values():
            field.disabled = True


class MergeForm(forms.Form):
    other = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    reason = forms.CharField(
        label=_("Why are they the same person?"),
        max_length=MAX_REASON,
        required=False,
        help_text=_("Recorded in the audit trail."),
    )
    confirm = forms.BooleanField(
        label=_("Yes, merge them. This cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the merge.")},
    )


class FindContactForm(forms.Form):
    q = forms.CharField(
        label=_("Find a contact by name, handle or number"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
