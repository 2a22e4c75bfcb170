from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tertulia.connectors.sandbox.models.accounts import SandboxAccount
from tertulia.connectors.sandbox.models.content import SandboxMessage, SandboxPost


class InboundEventKind(models.TextChoices):
    MENTION = "mention", _("Mention")
    REPLY = "reply", _("Reply")
    QUOTE = "quote", _("Quote")
    DIRECT_MESSAGE = "direct_message", _("Direct message")


class SandboxInboundEvent(models.Model):
    """One item delivered to an account's inbound (its notifications).

    Written when the post or message is created, so reading "inbound for X after
    event N" is one range scan on (recipient, id) however large the network is,
    and blocks/mutes apply to new items only, as on real networks. The id is the
    cursor the connector hands out.
    """

    recipient = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="inbound_events")
    kind = models.CharField(_("kind"), max_length=16, choices=InboundEventKind.choices)
    post = models.ForeignKey(
        SandboxPost, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    message = models.ForeignKey(
        SandboxMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox inbound event")
        verbose_name_plural = _("sandbox inbound events")
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(post__isnull=False, message__isnull=True)
                    | models.Q(post__isnull=True, message__isnull=False)
                ),
                name="sandbox_event_post_xor_message",
            ),
        ]
        indexes = [
            models.Index(fields=("recipient", "id"), name="sandbox_event_recipient_id"),
            models.Index(fields=("recipient", "created_at"), name="sandbox_event_recipient_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} → {self.recipient_id}"
