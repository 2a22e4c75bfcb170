from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.connectors.sandbox.models.accounts import SandboxAccount


class RateBucket(models.TextChoices):
    READ = "read", _("Reads")
    WRITE = "write", _("Writes")


class SandboxRateCounter(models.Model):
    """Requests used in the current fixed window, one row per account and bucket.

    Kept in the database, not in process memory, so every web and worker process
    sees the same budget, as they would against a real network.
    """

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="rate_counters")
    bucket = models.CharField(max_length=8, choices=RateBucket.choices)
    window_started_at = models.DateTimeField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("sandbox rate counter")
        verbose_name_plural = _("sandbox rate counters")
        constraints = [
            models.UniqueConstraint(fields=("account", "bucket"), name="sandbox_rate_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.bucket} {self.used}"
