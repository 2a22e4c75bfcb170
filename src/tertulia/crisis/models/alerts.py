"""Crisis alerts, the escalation chain that wakes people until someone acknowledges, and every
notification sent (tertulia.crisis.alerts, tertulia.crisis.escalation)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization


class EscalationStep(models.Model):
    """One rung of a brand's chain: who is told, and how long after the alert (or the previous rung)
    nobody acknowledging makes it their turn. Position 0 is the person on call."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="escalation_steps")
    position = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    wait_minutes = models.PositiveSmallIntegerField(_("minutes before this step"), default=10)
    by_email = models.BooleanField(_("e-mail"), default=True)

    class Meta:
        ordering = ("brand_id", "position")
        constraints = [
            models.UniqueConstraint(fields=("brand", "position"), name="crisis_escalation_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id}#{self.position}: {self.user_id}"


class AlertState(models.TextChoices):
    OPEN = "open", _("Waiting for someone")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    """Someone must look: raised by a surge (or by hand), escalated until acknowledged."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    surge = models.ForeignKey(
        "crisis.Surge", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"), blank=True)  # the self-explaining text, as sent
    state = models.CharField(max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    raised_at = models.DateTimeField()
    # The chain (tertulia.crisis.escalation): how many tellings so far (below the chain's length, the index
    # of the rung told next; from there on each telling is the whole chain again), and when the next one is
    # due if nobody acknowledges (None once acknowledged or resolved).
    level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    is_rehearsal = models.BooleanField(default=False)

    class Meta:
        ordering = ("-raised_at", "-id")
        indexes = [
            models.Index(fields=("state", "next_escalation_at"), name="crisis_alert_due"),
            models.Index(fields=("organization", "-raised_at"), name="crisis_alert_recent"),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.state})"


class Medium(models.TextChoices):
    APP = "app", _("In the app")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class AlertNotice(models.Model):
    """One notification of an alert: to whom (a person, or the organization's webhooks), how, when,
    and whether it went out."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notices")
    level = models.PositiveSmallIntegerField()
    medium = models.CharField(max_length=8, choices=Medium.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField()
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("alert_id", "sent_at", "id")

    def __str__(self) -> str:
        return f"{self.alert_id}: {self.medium} to {self.user_id or '*'}"
