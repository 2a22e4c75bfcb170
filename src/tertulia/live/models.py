from __future__ import annotations

from django.db import models


class LiveEvent(models.Model):
    """A recent event for the database broker (embedded profile). Pruned after minutes."""

    organization_id = models.BigIntegerField(db_index=True)
    topic = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"
