from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models.organization import Organization


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone."), params={"value": value}, code="timezone"
        )


# BCP 47 language tags as social networks report them: "es", "en", "pt-BR", "zh-Hant".
validate_language_tag = RegexValidator(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", _("Use a language code such as es, en or pt-BR."), code="language"
)


class Brand(models.Model):
    """A brand the organization speaks for, with the profile a community manager plans from (seed 001)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="brands")
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60)
    language = models.CharField(
        _("main language"), max_length=16, default="es", validators=[validate_language_tag]
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Madrid", validators=[validate_timezone]
    )
    voice_guide = models.TextField(_("voice and tone guide"), blank=True)
    audience = models.TextField(_("audience"), blank=True)
    reach_threshold = models.PositiveIntegerField(
        _("influential author threshold"),
        default=5000,
        help_text=_("Authors with at least this many followers are treated as influential."),
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=("organization", "slug"), name="brand_slug_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class Competitor(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(_("name"), max_length=120)
    handles = models.JSONField(_("handles"), default=list, blank=True)
    website = models.URLField(_("website"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Kpi(models.TextChoices):
    RESPONSE_TIME = "response_time", _("Median first response time (minutes)")
    SLA_MET = "sla_met", _("SLA met (%)")
    POSITIVE_SHARE = "positive_share", _("Positive sentiment share (%)")
    ENGAGEMENT_RATE = "engagement_rate", _("Engagement rate (%)")
    AUDIENCE_GROWTH = "audience_growth", _("Audience growth (%)")
    SHARE_OF_VOICE = "share_of_voice", _("Share of voice (%)")
    POSTS_PUBLISHED = "posts_published", _("Posts published")


class Direction(models.TextChoices):
    AT_LEAST = "at_least", _("at least")
    AT_MOST = "at_most", _("at most")


class Objective(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="objectives")
    title = models.CharField(_("objective"), max_length=200)
    kpi = models.CharField(_("KPI"), max_length=32, choices=Kpi.choices)
    direction = models.CharField(
        _("direction"), max_length=16, choices=Direction.choices, default=Direction.AT_LEAST
    )
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))

    class Meta:
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")
        ordering = ("period_start", "title")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="objective_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title
