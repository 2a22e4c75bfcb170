"""How watchful the guard is, per organization."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Organization


class Sensitivity(models.TextChoices):
    # The score (sum of the signals' weights) at which an item is held: docs/hijack-guard.md.
    LOW = "low", _("Low: hold only what is clearly suspicious")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High: hold more, including single strong signals")


THRESHOLDS: dict[str, int] = {Sensitivity.LOW: 70, Sensitivity.NORMAL: 50, Sensitivity.HIGH: 35}


class GuardSettings(models.Model):
    """An organization's choices; an organization without a row has the defaults (everything on)."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(_("check outgoing posts and replies"), default=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=8, choices=Sensitivity.choices, default=Sensitivity.NORMAL
    )
    check_device = models.BooleanField(_("a new device or network for the person"), default=True)
    check_hour = models.BooleanField(_("an hour outside the brand's pattern"), default=True)
    check_burst = models.BooleanField(_("a burst of sends"), default=True)
    check_domains = models.BooleanField(_("links to domains the brand never used"), default=True)
    check_vocabulary = models.BooleanField(_("scam vocabulary"), default=True)
    # One domain per line; their subdomains are trusted too.
    trusted_domains = models.TextField(_("trusted domains"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("hijack guard settings")
        verbose_name_plural = _("hijack guard settings")

    def __str__(self) -> str:
        return f"guard settings of {self.organization_id}"

    @property
    def threshold(self) -> int:
        return THRESHOLDS.get(self.sensitivity, THRESHOLDS[Sensitivity.NORMAL])

    def trusted(self) -> list[str]:
        return [line.strip().lower() for line in self.trusted_domains.splitlines() if line.strip()]
