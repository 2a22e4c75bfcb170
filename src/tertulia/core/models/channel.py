from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings as django_settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models.brand import Brand

if TYPE_CHECKING:
    from tertulia.core.models.user import User
from tertulia.core.models.organization import Organization


class ChannelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    DISCONNECTED = "disconnected", _("Disconnected")


class Channel(models.Model):
    """A connected account on a network, owned by a brand (Chatwoot's Inbox → Channel).

    `organization` repeats `brand.organization` so tenant filters need no join;
    the actions layer keeps the two equal.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="channels")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="channels")
    network = models.CharField(_("network"), max_length=32)
    handle = models.CharField(_("handle"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    external_id = models.CharField(_("account id on the network"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=32, choices=ChannelStatus.choices, default=ChannelStatus.ACTIVE
    )
    capabilities = models.JSONField(_("capabilities"), default=list, blank=True)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    operators: models.ManyToManyField[User, ChannelOperator] = models.ManyToManyField(
        django_settings.AUTH_USER_MODEL,
        through="ChannelOperator",
        related_name="operated_channels",
        blank=True,
    )
    # Who connected (or last reconnected) it: offboarding lists these channels for a reconnect or a rotation.
    connected_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="connected_channels",
        verbose_name=_("connected by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ("brand__name", "network", "handle")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "network", "handle"), name="channel_unique_account_per_org"
            ),
            # One account on a network belongs to one channel in the whole instance: a second
            # organization connecting it would read the first one's messages.
            models.UniqueConstraint(
                fields=("network", "external_id"),
                condition=~models.Q(external_id=""),
                name="channel_account_connected_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"


class ChannelOperator(models.Model):
    """A person who may operate a channel: read its inbox, reply, publish."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="operator_grants")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_grants"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("channel", "user"), name="channel_operator_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.channel}"
