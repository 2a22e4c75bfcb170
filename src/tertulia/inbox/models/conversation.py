"""A conversation: the unit a community manager works (a DM thread, the comments under a post, a mention)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Contact, Organization


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")  # answered; waiting on the customer
    SNOOZED = "snoozed", _("Snoozed")
    CLOSED = "closed", _("Closed")


class Kind(models.TextChoices):
    DIRECT = "direct", _("Direct messages")
    THREAD = "thread", _("Comments")  # replies and comments under one post
    MENTION = "mention", _("Mentions")  # mentions and quotes of the account


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class Intent(models.TextChoices):
    QUESTION = "question", _("Question")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    SPAM = "spam", _("Spam")
    ABUSE = "abuse", _("Abuse")
    OTHER = "other", _("Other")


class Urgency(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    CRITICAL = 3, _("Critical")


class Conversation(models.Model):
    """Messages of one channel grouped by the network's own threading (`InboundItem.conversation_key`).

    The working state lives here: status, assignee, the SLA clock. The clock runs from
    `awaiting_since` (the oldest message nobody has answered yet) to `due_at`.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="conversations")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    key = models.CharField(max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    preview = models.CharField(_("preview"), max_length=280, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
    )
    intent = models.CharField(_("intent"), max_length=16, choices=Intent.choices, default=Intent.OTHER)
    sentiment = models.CharField(
        _("sentiment"), max_length=16, choices=Sentiment.choices, default=Sentiment.NEUTRAL
    )
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.NORMAL)
    # Of the newest customer message: saved replies are offered in it.
    language = models.CharField(_("language"), max_length=8, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(_("last message"))
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    # The SLA clock: set when a customer writes and nobody has answered yet; cleared by our reply.
    awaiting_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("answer by"), null=True, blank=True)
    sla_warned_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    # Raised to a manager: by the SLA sweep at breach, by the moderation policy, or by hand.
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    escalation_reason = models.CharField(_("escalation reason"), max_length=255, blank=True)
    tags = models.ManyToManyField("inbox.Tag", blank=True, related_name="conversations")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(fields=("channel", "key"), name="conversation_once_per_channel_key"),
        ]
        indexes = [
            # The inbox list: one brand, some statuses, newest first (keyset pagination on both fields).
            models.Index(fields=("brand", "status", "-last_message_at", "-id"), name="inbox_list"),
            models.Index(fields=("brand", "-last_message_at", "-id"), name="inbox_list_all"),
            models.Index(fields=("assignee", "status", "-last_message_at"), name="inbox_mine"),
            # The SLA sweep: open conversations whose clock runs out soonest.
            models.Index(fields=("status", "due_at"), name="inbox_due"),
            models.Index(fields=("brand", "created_at"), name="conversation_period"),  # daily rollups
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.key}"
