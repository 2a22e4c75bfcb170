"""One message on a network, in or out: stored verbatim, analysed once, never duplicated."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, ContactHandle, Organization
from tertulia.inbox.models.conversation import Conversation, Intent, Sentiment, Urgency


class Direction(models.TextChoices):
    INBOUND = "in", _("Received")
    OUTBOUND = "out", _("Sent")


class Kind(models.TextChoices):
    MENTION = "mention", _("Mention")
    REPLY = "reply", _("Reply")
    QUOTE = "quote", _("Quote")
    COMMENT = "comment", _("Comment")
    DIRECT_MESSAGE = "direct_message", _("Direct message")


class Delivery(models.TextChoices):
    RECEIVED = "received", _("Received")  # inbound: nothing to deliver
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Held by the hijack guard for a second person (tertulia.guard): never sent until released.
    HELD = "held", _("Held for review")
    REJECTED = "rejected", _("Not sent (rejected in review)")


class Message(models.Model):
    """A network message. Unique per (channel, remote id), so a webhook replay or an overlapping poll
    never stores it twice. The text is kept exactly as received and escaped wherever it is shown."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="messages")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # "" only for a reply of ours the network has not acknowledged yet.
    remote_id = models.CharField(max_length=255, blank=True)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.INBOUND)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        ContactHandle, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    author_remote_id = models.CharField(max_length=255, blank=True)
    author_handle = models.CharField(_("author"), max_length=255, blank=True)
    author_name = models.CharField(max_length=255, blank=True)
    author_followers = models.PositiveIntegerField(default=0)
    text = models.TextField(_("text"), blank=True)
    url = models.CharField(max_length=500, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent"))  # when the network says it was written
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    sentiment = models.CharField(
        _("sentiment"), max_length=16, choices=Sentiment.choices, default=Sentiment.NEUTRAL
    )
    sentiment_score = models.FloatField(default=0.0)
    intent = models.CharField(_("intent"), max_length=16, choices=Intent.choices, default=Intent.OTHER)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.NORMAL)
    is_hidden = models.BooleanField(_("hidden"), default=False)
    is_deleted = models.BooleanField(_("deleted"), default=False)
    # Ours: who wrote it in Tertulia, and whether the network has it yet.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.RECEIVED)
    delivery_error = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=("channel", "remote_id"),
                condition=~models.Q(remote_id=""),
                name="message_once_per_channel",
            ),
        ]
        indexes = [
            models.Index(fields=("conversation", "sent_at", "id"), name="message_thread"),
            models.Index(fields=("brand", "-received_at"), name="message_recent"),
            # The daily rollups (tertulia.analytics.rollup) count a brand's messages by the day sent.
            models.Index(fields=("brand", "sent_at"), name="message_period"),
            models.Index(
                fields=("delivery",), name="message_delivery", condition=~models.Q(delivery="received")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.remote_id or self.pk}"
