"""When posts go out: queue slots per channel, and pauses that hold deliveries (crisis mode, a channel
that was compromised)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization


class QueueSlot(models.Model):
    """A recurring time a channel publishes from its queue, in the brand's time zone."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="queue_slots")
    weekday = models.PositiveSmallIntegerField(_("day of the week"))  # 0 Monday … 6 Sunday
    time = models.TimeField(_("time"))

    class Meta:
        ordering = ("weekday", "time")
        constraints = [
            models.UniqueConstraint(fields=("channel", "weekday", "time"), name="queue_slot_unique"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="queue_slot_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.weekday} {self.time:%H:%M}"


class Pause(models.Model):
    """Publishing held for a brand, or for the whole organization when `brand` is empty.

    Active while `ended_at` is empty. The dispatcher looks for one right before each send.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # Crisis mode also applies the brand's crisis approval workflow to new posts.
    is_crisis = models.BooleanField(_("crisis mode"), default=False)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")
        indexes = [models.Index(fields=("organization", "ended_at"), name="pause_active")]
        # One active pause per scope, even when two people press Pause at the same moment (two
        # constraints, since NULL brands are distinct in a unique index on every database).
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "brand"),
                condition=models.Q(ended_at__isnull=True, brand__isnull=False),
                name="pause_one_active_per_brand",
            ),
            models.UniqueConstraint(
                fields=("organization",),
                condition=models.Q(ended_at__isnull=True, brand__isnull=True),
                name="pause_one_active_org_wide",
            ),
        ]

    def __str__(self) -> str:
        return f"pause {self.organization_id}/{self.brand_id or '*'}"


class ChannelPause(models.Model):
    """Publishing held for one channel (a compromised account: tertulia.guard), apart from `Pause`.

    Its own table, so the brand and organization pauses keep their meaning everywhere they are
    read. Like them, it is looked for right before each send (posts and replies) and active while
    `ended_at` is empty; one active pause per channel.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("channel",),
                condition=models.Q(ended_at__isnull=True),
                name="channel_pause_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"pause of channel {self.channel_id}"
