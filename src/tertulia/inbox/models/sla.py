"""Service-level targets: how soon a brand answers, counted in its business hours."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand

DAY_MINUTES = 24 * 60


def default_intent_targets() -> dict[str, int]:
    # Seeds 001 and 002: most people expect an answer within a day, someone complaining within an hour.
    return {"complaint": 60}


class SlaPolicy(models.Model):
    """One per brand. Without a row, the defaults below apply around the clock."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="sla_policy")
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), default=DAY_MINUTES
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response within (minutes)"), default=DAY_MINUTES
    )
    # Shorter targets by intent ({"complaint": 60}); they apply to first and next responses alike.
    intent_targets = models.JSONField(_("targets by intent"), default=default_intent_targets, blank=True)
    critical_response_minutes = models.PositiveIntegerField(
        _("critical messages within (minutes)"), default=30
    )
    warn_before_minutes = models.PositiveIntegerField(_("warn this many minutes before"), default=15)
    # tertulia.inbox.businesshours format; empty: always open, in the brand's time zone.
    business_hours = models.JSONField(_("business hours"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return f"SLA {self.brand_id}"


class ResponseTarget(models.Model):
    """One run of the clock: from a customer's unanswered message to our answer (or closing).

    The SLA report counts these: met (answered by the due time), breached, or stopped (closed
    without an answer, which counts as neither).
    """

    class Stage(models.TextChoices):
        FIRST = "first", _("First response")
        NEXT = "next", _("Next response")

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")
        STOPPED = "stopped", _("Stopped")

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="response_targets"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=8, choices=Stage.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # Set while the conversation waits on the customer (pending) or is snoozed: on resuming, what
    # was left of the target (in business time) is counted again from then.
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)

    class Meta:
        verbose_name = _("response target")
        verbose_name_plural = _("response targets")
        indexes = [
            models.Index(fields=("brand", "started_at"), name="sla_report"),
            models.Index(fields=("conversation", "outcome"), name="sla_running"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}:{self.stage}:{self.outcome}"
