"""Forms of the composer (/publish/new/, /publish/posts/<id>/edit/), the post page and the media library.

They only parse what people send. `tertulia.publishing.actions.compose` (and `media`, `review`,
`scheduling`) check the values again and store them, so the web and the API refuse the same things
with the same messages; nothing here is a second set of rules.

Times are typed in the brand's time zone (a `datetime-local` input has none) and become aware
datetimes here. A time that does not exist there (the hour skipped when clocks go forward) is
refused rather than silently moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.core.models import Brand, Channel
from tertulia.core.zones import zone
from tertulia.publishing.actions.compose import DraftSpec, VariantSpec
from tertulia.publishing.actions.review import MAX_COMMENT
from tertulia.publishing.models import MediaAsset
from tertulia.publishing.rules.networks import NoRules, rules_for
from tertulia.publishing.rules.placements import Placement

LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
INPUT_FORMAT = "%Y-%m-%dT%H:%M"
# What an image's "order" box accepts; the composer sorts the chosen images by it.
MAX_ORDER = 99


def brand_zone(brand: Brand) -> tzinfo:
    return zone(brand.timezone)


def local_input(when: datetime | None, zone: tzinfo) -> str:
    """An aware datetime as a `datetime-local` input shows it, in `zone`."""
    return when.astimezone(zone).strftime(INPUT_FORMAT) if when is not None else ""


def parse_local(value: str, zone: tzinfo) -> datetime | None:
    """What a `datetime-local` input sent, read in `zone`, as an aware datetime ("" is no time)."""
    value = value.strip()
    if not value:
        return None
    for pattern in LOCAL_FORMATS:
        try:
            naive = datetime.strptime(value, pattern)  # the zone is added just below
        except ValueError:
            continue
        aware = naive.replace(tzinfo=zone)
        try:
            round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        except (OverflowError, ValueError):  # the first or last hours of year 1 or 9999
            break
        # A wall-clock time skipped by a clock change does not survive the round trip.
        if round_trip != naive:
            raise ValidationError(
                _("That time does not exist in %(zone)s (the clocks change then): choose another.")
                % {"zone": str(zone)}
            )
        return aware
    raise ValidationError(_("Write the date and time as 2026-10-31 18:30."))


def _lines(text: str) -> str:
    # Browsers send a textarea's line breaks as CRLF; what the person typed (and what networks
    # count) is one line feed each.
    return text.replace("\r\n", "\n")


@dataclass(frozen=True)
class NetworkChoices:
    """What the composer offers for one network: its name and the image formats it shows."""

    name: str
    placements: list[tuple[str, str]]
    usual: str  # the label of its usual format
    publishes: bool


def network_choices(network: str) -> NetworkChoices:
    try:
        rules = rules_for(network)
    except NoRules:
        return NetworkChoices(name=network, placements=[], usual="", publishes=False)
    usual = str(rules.default_placement.label) if rules.default_placement is not None else ""
    return NetworkChoices(
        name=rules.display_name,
        placements=[(placement.value, str(placement.label)) for placement in rules.placements],
        usual=usual,
        publishes=True,
    )


class ComposeForm(forms.Form):
    """One post as the composer shows it: the shared text, then a row per channel and per image."""

    title = forms.CharField(
        label=_lazy("Internal title"),
        required=False,
        strip=False,
        help_text=_lazy("Only your team sees it."),
    )
    text = forms.CharField(
        label=_lazy("Text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "dir": "auto"}),
    )
    utm_campaign = forms.CharField(
        label=_lazy("Campaign (UTM)"),
        required=False,
        help_text=_lazy("Added to every link as utm_campaign; the network is utm_source."),
    )
    scheduled_at = forms.CharField(
        label=_lazy("Publish at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    channels = forms.TypedMultipleChoiceField(coerce=int, required=False)
    images = forms.TypedMultipleChoiceField(coerce=int, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        brand: Brand,
        channels: Sequence[Channel],
        assets: Sequence[MediaAsset],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.brand = brand
        self.zone = brand_zone(brand)
        self.channel_list = list(channels)
        self.asset_list = list(assets)
        self.fields["scheduled_at"].help_text = _("In %(zone)s time.") % {"zone": str(self.zone)}
        channel_field = self.fields["channels"]
        image_field = self.fields["images"]
        assert isinstance(channel_field, forms.ChoiceField) and isinstance(image_field, forms.ChoiceField)
        channel_field.choices = [(channel.pk, str(channel)) for channel in self.channel_list]
        image_field.choices = [(asset.pk, str(asset)) for asset in self.asset_list]
        placements = [("", _("Usual format"))] + [(p.value, str(p.label)) for p in Placement]
        for channel in self.channel_list:
            self.fields[f"text_{channel.pk}"] = forms.CharField(
                label=_("Own text for @%(handle)s") % {"handle": channel.handle},
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
            )
            self.fields[f"placement_{channel.pk}"] = forms.ChoiceField(
                label=_("Image format"), required=False, choices=placements
            )
        for asset in self.asset_list:
            self.fields[f"order_{asset.pk}"] = forms.IntegerField(
                label=_("Order"), required=False, min_value=1, max_value=MAX_ORDER
            )

    def clean_text(self) -> str:
        return _lines(self.cleaned_data["text"])

    def clean_scheduled_at(self) -> datetime | None:
        return parse_local(self.cleaned_data["scheduled_at"], self.zone)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for channel in self.channel_list:
            name = f"text_{channel.pk}"
            if isinstance(cleaned.get(name), str):
                cleaned[name] = _lines(cleaned[name])
        return cleaned

    # --- what the form holds, as the actions take it ------------------------------------------

    def chosen_channels(self) -> list[int]:
        """The ticked channels (of this brand: the choices refuse any other), in the brand's order."""
        ticked = set(self._value("channels") or [])
        return [channel.pk for channel in self.channel_list if channel.pk in ticked]

    def chosen_media(self) -> list[int]:
        """The ticked images, by the order typed beside them, then as the library lists them."""
        ticked = set(self._value("images") or [])
        ranked = []
        for index, asset in enumerate(self.asset_list):
            if asset.pk in ticked:
                order = self._value(f"order_{asset.pk}")
                ranked.append((order if isinstance(order, int) else MAX_ORDER + 1, index, asset.pk))
        return [pk for _order, _index, pk in sorted(ranked)]

    def variant_text(self, channel_id: int) -> str:
        value = self._value(f"text_{channel_id}")
        return value if isinstance(value, str) else ""

    def variant_placement(self, channel_id: int) -> str:
        value = self._value(f"placement_{channel_id}")
        return value if isinstance(value, str) else ""

    def spec(self) -> DraftSpec:
        """The post to save; call after `is_valid()`."""
        return DraftSpec(
            text=self.cleaned_data.get("text", ""),
            title=self.cleaned_data.get("title", ""),
            utm_campaign=self.cleaned_data.get("utm_campaign", ""),
            scheduled_at=self.cleaned_data.get("scheduled_at"),
            variants=tuple(
                VariantSpec(channel_id=pk, text=self.variant_text(pk), placement=self.variant_placement(pk))
                for pk in self.chosen_channels()
            ),
            media=tuple(self.chosen_media()),
        )

    def _value(self, name: str) -> Any:
        """A field's clean value, or (when it did not validate, as in the live check) what was sent."""
        if hasattr(self, "cleaned_data") and name in self.cleaned_data:
            return self.cleaned_data[name]
        field = self.fields.get(name)
        if field is None or not self.is_bound:
            return None
        raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        try:
            return field.clean(raw)
        except ValidationError:
            return None

    def text_value(self) -> str:
        value = self._value("text")
        return _lines(value) if isinstance(value, str) else ""

    def campaign_value(self) -> str:
        value = self._value("utm_campaign")
        return value.strip() if isinstance(value, str) else ""


class UploadForm(forms.Form):
    """An image for the brand's media library (the composer has the same two fields)."""

    # In the composer the file box sits in the post's form: "Save draft" must not need a file.
    use_required_attribute = False

    image_file = forms.FileField(label=_lazy("Image"), required=True)
    image_alt = forms.CharField(
        label=_lazy("Description (alt text)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=_lazy("What the image shows, for people who cannot see it."),
    )


class DescribeForm(forms.Form):
    """An image's description and focal point (0 to 1 from the top-left corner)."""

    alt_text = forms.CharField(
        label=_lazy("Description (alt text)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
    focal_x = forms.FloatField(
        label=_lazy("Focal point, across (0 to 1)"),
        min_value=0.0,
        max_value=1.0,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "max": "1", "data-focal": "x"}),
    )
    focal_y = forms.FloatField(
        label=_lazy("Focal point, down (0 to 1)"),
        min_value=0.0,
        max_value=1.0,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "max": "1", "data-focal": "y"}),
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_lazy("Comment"),
        required=False,
        strip=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )


class ScheduleForm(forms.Form):
    scheduled_at = forms.CharField(
        label=_lazy("Publish at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, brand: Brand, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = brand_zone(brand)
        self.fields["scheduled_at"].help_text = _("In %(zone)s time.") % {"zone": str(self.zone)}

    def clean_scheduled_at(self) -> datetime:
        when = parse_local(self.cleaned_data["scheduled_at"], self.zone)
        if when is None:
            raise ValidationError(_("Choose when to publish it."))
        return when
