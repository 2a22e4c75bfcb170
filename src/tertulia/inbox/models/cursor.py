"""Where each channel's reading stands, and who is reading it now."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Channel


class ChannelCursor(models.Model):
    """The poller's bookmark for one channel: the connector's cursor, saved in the same transaction as
    the messages it led to, so a worker that dies mid-way resumes from the last committed page.

    `claimed_until` is a lease: one worker reads a channel at a time, and a dead worker's lease
    simply runs out.
    """

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="inbox_cursor")
    cursor = models.TextField(blank=True)
    next_poll_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("channel cursor")
        verbose_name_plural = _("channel cursors")

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.cursor[:40]}"
