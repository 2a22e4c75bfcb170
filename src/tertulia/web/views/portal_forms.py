"""Forms of the contributor portal and the guidelines library. They only parse; the actions in
tertulia.portal.actions check the values and store them, with the messages people see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _lazy

from tertulia.core.models import Brand, User
from tertulia.portal.models import GuidelineKind, Urgency


def _brand_field(brands: Iterable[Brand]) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_lazy("Brand"), coerce=int, choices=[(brand.pk, brand.name) for brand in brands]
    )


class IdeaForm(forms.Form):
    text = forms.CharField(
        label=_lazy("Your idea for a post"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
        help_text=_lazy("Write it as you would post it, or just describe it: the social team will shape it."),
    )
    link = forms.CharField(label=_lazy("Link (optional)"), required=False, strip=True)
    suggested_date = forms.DateField(
        label=_lazy("Suggested date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    why = forms.CharField(
        label=_lazy("Why it matters"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
    )
    image_file = forms.FileField(label=_lazy("Image (optional)"), required=False)

    def __init__(self, *args: Any, brands: Iterable[Brand], uploads: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"brand": _brand_field(brands), **self.fields}
        if not uploads:
            del self.fields["image_file"]


class FlagForm(forms.Form):
    link = forms.CharField(
        label=_lazy("Link to the post or conversation"),
        strip=True,
        help_text=_lazy("Out there on a network, or a conversation in Tertulia's inbox."),
    )
    text = forms.CharField(
        label=_lazy("What is going on"), strip=False, widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"})
    )
    urgency = forms.ChoiceField(label=_lazy("How urgent"), choices=Urgency.choices, initial=Urgency.NORMAL)

    def __init__(self, *args: Any, brands: Iterable[Brand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = {"brand": _brand_field(brands), **self.fields}


class GuidelineForm(forms.Form):
    kind = forms.ChoiceField(label=_lazy("Kind"), choices=GuidelineKind.choices)
    title = forms.CharField(label=_lazy("Title"), strip=False, widget=forms.TextInput(attrs={"dir": "auto"}))
    body = forms.CharField(
        label=_lazy("Text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "dir": "auto"}),
        help_text=_lazy(
            "Plain text. A blank line starts a paragraph; lines starting with “- ” make a list; "
            "“## ” starts a heading; web addresses become links."
        ),
    )
    owner = forms.TypedChoiceField(label=_lazy("Owner"), coerce=int, required=False, empty_value=None)
    last_reviewed = forms.DateField(
        label=_lazy("Last reviewed"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {person.pk: person for person in people}
        field = self.fields["owner"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *((person.pk, str(person)) for person in people)]

    def chosen_owner(self) -> User | None:
        pk = self.cleaned_data.get("owner")
        return self.people.get(pk) if pk is not None else None
