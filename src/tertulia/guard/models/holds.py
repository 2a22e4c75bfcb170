"""An outgoing post or reply held for a second person's approval."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization
from tertulia.guard.models.memory import ItemKind


class HoldState(models.TextChoices):
    PENDING = "pending", _("Held for review")
    RELEASED = "released", _("Released")
    REJECTED = "rejected", _("Rejected")
    # The sender took it back, or the post changed or was cancelled since: nothing left to decide.
    WITHDRAWN = "withdrawn", _("Withdrawn")


class HoldCause(models.TextChoices):
    SIGNALS = "signals", _("Suspicious signals")
    COMPROMISED = "compromised", _("The channel was reported compromised")
    # The brand is in crisis mode and the sender is not one of its crisis approvers (tertulia.crisis).
    CRISIS = "crisis", _("Crisis mode: a crisis approver must release it")


class GuardHold(models.Model):
    """What was held, who sent it and from where, why, and what became of it.

    A held post has no deliveries yet (it is not in the ledger until released); a held reply is a
    message in the "held" delivery state. `reasons` are codes and numbers, worded in the reader's
    language when shown (tertulia.guard.checks.findings.describe).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=ItemKind.choices)
    cause = models.CharField(max_length=12, choices=HoldCause.choices, default=HoldCause.SIGNALS)
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The version of the post that was judged: a later edit sends it through review again.
    post_version = models.PositiveIntegerField(default=0)
    # When it was to go out (a post's scheduled time; a reply: now).
    send_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "inbox.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channels = models.ManyToManyField(Channel, related_name="+")
    text = models.TextField(_("text"), blank=True)  # what would have gone out (the first variant's)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender_label = models.CharField(max_length=255, blank=True)
    via = models.CharField(max_length=16, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    device = models.CharField(max_length=64, blank=True)
    network = models.CharField(max_length=64, blank=True)
    score = models.PositiveIntegerField(default=0)
    threshold = models.PositiveIntegerField(default=0)
    reasons = models.JSONField(default=list)
    # Domains of its links, learned as the brand's when a second person releases it.
    domains = models.JSONField(default=list)
    state = models.CharField(max_length=12, choices=HoldState.choices, default=HoldState.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    incident = models.ForeignKey(
        "guard.Incident", on_delete=models.SET_NULL, null=True, blank=True, related_name="holds"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("held item")
        verbose_name_plural = _("held items")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("organization", "state", "-created_at"), name="guard_hold_queue"),
        ]
        constraints = [
            # At most one pending hold per post and per message.
            models.UniqueConstraint(
                fields=("post",),
                condition=models.Q(state="pending", post__isnull=False),
                name="guard_hold_one_pending_per_post",
            ),
            models.UniqueConstraint(
                fields=("message",),
                condition=models.Q(state="pending", message__isnull=False),
                name="guard_hold_one_pending_per_message",
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} ({self.kind}, {self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == HoldState.PENDING
