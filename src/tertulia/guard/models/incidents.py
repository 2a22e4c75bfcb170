"""A compromised channel: the incident, its checklist (seed 000) and its timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization


class IncidentState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Incident(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=IncidentState.choices, default=IncidentState.OPEN)
    # What the person who reported it saw ("posts we did not write"); hostile text stays verbatim.
    report = models.TextField(_("what was seen"), blank=True)
    # Since when the account may have been in someone else's hands: the window to review.
    suspected_since = models.DateTimeField(_("suspected since"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    pause = models.ForeignKey(
        "publishing.ChannelPause", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What Tertulia could do at once, for the record: credentials wiped, access revoked on the network.
    credentials_removed = models.BooleanField(default=False)
    revoked_remotely = models.BooleanField(default=False)
    revoke_error = models.CharField(max_length=500, blank=True)
    summary = models.TextField(_("what happened"), blank=True)
    # How it ended: publishing resumed, or left paused on purpose (the account was not recovered).
    resumed = models.BooleanField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ("-opened_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("channel",), condition=models.Q(state="open"), name="guard_incident_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"incident {self.pk} on channel {self.channel_id}"

    @property
    def is_open(self) -> bool:
        return self.state == IncidentState.OPEN


class IncidentStep(models.Model):
    """One line of the checklist (tertulia.guard.recovery.CHECKLIST), ticked with who and when."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps")
    key = models.CharField(max_length=32)
    position = models.PositiveSmallIntegerField()
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("position", "id")
        constraints = [models.UniqueConstraint(fields=("incident", "key"), name="guard_step_once")]

    def __str__(self) -> str:
        return f"{self.incident_id}:{self.key}"

    @property
    def done(self) -> bool:
        return self.done_at is not None


class IncidentEvent(models.Model):
    """The incident's timeline: what happened and who did it. `what` is a code; `detail` its values
    (worded in the reader's language when shown)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=255, blank=True)
    what = models.CharField(max_length=32)
    detail = models.JSONField(default=dict)

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.what}"
