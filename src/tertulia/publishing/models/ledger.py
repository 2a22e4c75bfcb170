"""The delivery ledger: one row per post and channel, moved through an explicit state machine.

See tertulia.publishing.delivery.states for the transitions and docs/publishing.md for why each exists.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization
from tertulia.publishing.models.posts import Post, Variant


class TargetState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Due")
    CLAIMED = "claimed", _("Sending")
    SENT = "sent", _("Published")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    CANCELLED = "cancelled", _("Cancelled")


class ErrorKind(models.TextChoices):
    NONE = "", _("None")
    CONTENT = "content", _("The network refused the content")
    CHANNEL = "channel", _("The channel needs reconnecting")
    RATE_LIMIT = "rate_limit", _("Rate limit")
    TEMPORARY = "temporary", _("Temporary failure")
    # The network may have published it and offers no way to check: a person looks.
    UNCERTAIN = "uncertain", _("Outcome unknown")


class DeliveryTarget(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="targets")
    variant = models.OneToOneField(Variant, on_delete=models.CASCADE, related_name="target")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=16, choices=TargetState.choices, default=TargetState.SCHEDULED)
    due_at = models.DateTimeField()
    # When a worker may next pick it up (a retry's backoff, a rate limit's reset).
    next_attempt_at = models.DateTimeField()
    # What is sent, frozen when the post was scheduled: a later edit cannot slip past review.
    payload = models.JSONField(default=dict)
    # Unique per target, never reused: networks that take one dedupe on it; the others are searched.
    idempotency_key = models.CharField(max_length=64, unique=True)
    # The claim: who holds it, until when, and a counter that fences a worker whose lease expired.
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # Set just before a network call: if the worker dies, the next one must reconcile before sending.
    maybe_sent = models.BooleanField(default=False)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    # A person cancelled or moved the post while a worker held this row: the worker honours it
    # right before its network call, and when it gives the row back (ledger.cancel, ledger.reschedule).
    cancel_requested = models.BooleanField(default=False)
    requested_due_at = models.DateTimeField(null=True, blank=True)
    remote_id = models.CharField(max_length=255, blank=True)
    url = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error_kind = models.CharField(
        max_length=16, choices=ErrorKind.choices, default=ErrorKind.NONE, blank=True
    )
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ("due_at", "id")
        indexes = [
            # What the dispatcher claims, oldest first.
            models.Index(fields=("state", "next_attempt_at"), name="target_claimable"),
            models.Index(fields=("state", "due_at"), name="target_promotable"),
            models.Index(fields=("channel", "state"), name="target_channel_state"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}@{self.channel_id} {self.state}"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", _("Published")
    RECONCILED = "reconciled", _("Found already published")
    RETRY = "retry", _("Will retry")
    RATE_LIMITED = "rate_limited", _("Waiting for the rate limit")
    PAUSED = "paused", _("Held by a pause")
    FAILED = "failed", _("Failed")
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    LEASE_LOST = "lease_lost", _("Taken over by another worker")
    CANCELLED = "cancelled", _("Cancelled before sending")
    MOVED = "moved", _("Moved to a new time before sending")


class DeliveryAttempt(models.Model):
    """What happened each time a worker took a target: the per-target history people see."""

    target = models.ForeignKey(DeliveryTarget, on_delete=models.CASCADE, related_name="history")
    worker = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("started_at", "id")

    def __str__(self) -> str:
        return f"{self.target_id} {self.outcome}"
