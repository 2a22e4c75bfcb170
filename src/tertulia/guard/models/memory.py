"""What the guard remembers to tell the usual from the unusual: people's devices and networks, the
domains each brand links to, and a short log of outgoing items (for bursts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization


class DeviceSource(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign-in")
    ACTION = "action", _("An action that was not suspicious")
    RELEASE = "release", _("Released by a second person")


class KnownDevice(models.Model):
    """A (device family, network) a person has worked from. Per person, across organizations: the
    question is whether the person at the keyboard is the usual one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # "Firefox on Linux", "curl": browser or client family and system, never the version.
    family = models.CharField(max_length=64)
    # The address's network: /24 for IPv4, /48 for IPv6 ("203.0.113.0/24").
    network = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=DeviceSource.choices, default=DeviceSource.ACTION)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "family", "network"), name="guard_device_once"),
        ]
        indexes = [models.Index(fields=("user", "-last_seen"), name="guard_device_recent")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.family} @ {self.network}"


class KnownDomain(models.Model):
    """A domain a brand has linked to before (or trusted when a hold was released)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=255)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("brand", "domain"), name="guard_domain_once")]

    def __str__(self) -> str:
        return f"{self.brand_id}: {self.domain}"


class ItemKind(models.TextChoices):
    POST = "post", _("Post")
    REPLY = "reply", _("Reply or direct message")


class OutgoingEvent(models.Model):
    """One outgoing item on one channel, as the guard saw it: the history bursts are measured on.

    `bucket` and `send_bucket` are the 10-minute windows (seconds since the epoch // 600) of the
    action and of the send, so a normal rate is one aggregate query. Kept 30 days.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=8, choices=ItemKind.choices)
    item = models.CharField(max_length=32)  # "post:12", "reply:34": one post on three channels is one item
    acted_at = models.DateTimeField()
    sends_at = models.DateTimeField()
    bucket = models.BigIntegerField()
    send_bucket = models.BigIntegerField()
    held = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=("user", "acted_at"), name="guard_event_person"),
            models.Index(fields=("channel", "sends_at"), name="guard_event_channel"),
            models.Index(fields=("acted_at",), name="guard_event_age"),
        ]

    def __str__(self) -> str:
        return f"{self.item}@{self.channel_id}"
