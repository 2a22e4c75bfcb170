"""An organization's webhook endpoints and every delivery made to them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Organization


class Format(models.TextChoices):
    GENERIC = "generic", _("Signed JSON")
    SLACK = "slack", _("Slack (incoming webhook)")
    MATTERMOST = "mattermost", _("Mattermost (incoming webhook)")


class Endpoint(models.Model):
    """Where an organization wants its events sent.

    The URL and the signing secret are sealed together by the vault (a chat tool's webhook URL is
    itself a credential): the page and the API show `url_hint` and `secret_hint` only.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("organization"),
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    url_hint = models.CharField(_("address"), max_length=120)  # scheme://host/… : never the whole URL
    format = models.CharField(_("format"), max_length=16, choices=Format.choices, default=Format.GENERIC)
    event_types = models.JSONField(_("events"), default=list)
    language = models.CharField(_("language"), max_length=8, default="en")  # of chat messages
    is_active = models.BooleanField(_("active"), default=True)
    secret_hint = models.CharField(_("secret"), max_length=16)  # "whsec_AbCd…"
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ("name", "id")

    def __str__(self) -> str:
        return f"{self.name} ({self.url_hint})"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One event for one endpoint, and what came of sending it (the database is the queue's truth)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40)  # "msg_…": the webhook-id header, the same on every retry
    event_type = models.CharField(_("event"), max_length=64)
    payload = models.JSONField()  # the envelope, as sent in the generic format
    state = models.CharField(
        _("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("state", "next_attempt_at"), name="webhook_delivery_due"),
            models.Index(fields=("endpoint", "-created_at"), name="webhook_delivery_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.state})"
