from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tertulia.connectors.sandbox.models.accounts import SandboxAccount


class SandboxSimulation(models.Model):
    """Community traffic towards a set of brand accounts, generated tick by tick."""

    # The sorted target handles joined by commas: one simulation per set of brands.
    key = models.CharField(max_length=500, unique=True)
    targets = models.ManyToManyField(SandboxAccount, related_name="simulations")
    seed = models.BigIntegerField(_("seed"), default=2026)
    rate_per_minute = models.PositiveIntegerField(_("messages per minute"), default=12)
    enabled = models.BooleanField(_("enabled"), default=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    # Tick n covers [started_at + 2(n-1) s, started_at + 2n s); 0 means none generated.
    # Workers claim ticks by moving this forward with a conditional UPDATE.
    last_tick = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("sandbox simulation")
        verbose_name_plural = _("sandbox simulations")

    def __str__(self) -> str:
        return self.key

    @property
    def handles(self) -> list[str]:
        return self.key.split(",") if self.key else []


class SandboxCrisis(models.Model):
    """A rehearsal: a surge of negative posts about one topic for a while."""

    simulation = models.ForeignKey(SandboxSimulation, on_delete=models.CASCADE, related_name="crises")
    topic = models.CharField(_("topic"), max_length=120)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ends_at = models.DateTimeField(_("ends"))
    multiplier = models.PositiveSmallIntegerField(_("traffic multiplier"), default=8)

    class Meta:
        verbose_name = _("sandbox crisis")
        verbose_name_plural = _("sandbox crises")
        ordering = ("-started_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("started_at")), name="sandbox_crisis_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.started_at:%Y-%m-%d %H:%M})"

    def active_at(self, moment: datetime) -> bool:
        return self.started_at <= moment < self.ends_at

    @property
    def is_active(self) -> bool:
        return self.active_at(timezone.now())
