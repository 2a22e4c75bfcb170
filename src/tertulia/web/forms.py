from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand
from tertulia.core.models.brand import validate_timezone

MAX_GUIDE = 20_000


class BrandProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    language = forms.ChoiceField(label=_("Main language"), choices=settings.LANGUAGES)
    timezone = forms.CharField(label=_("Time zone"), max_length=64, validators=[validate_timezone])
    voice_guide = forms.CharField(
        label=_("Voice and tone guide"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=MAX_GUIDE,
    )
    audience = forms.CharField(
        label=_("Audience"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=MAX_GUIDE
    )
    reach_threshold = forms.IntegerField(
        label=_("Influential author threshold (followers)"), min_value=0, max_value=1_000_000_000
    )

    def __init__(self, data: Any = None, *, instance_values: Brand) -> None:
        initial = {name: getattr(instance_values, name) for name in self.base_fields}
        super().__init__(data, initial=initial)

    def disable(self) -> None:
        for field in self.fields.values():
            field.disabled = True
