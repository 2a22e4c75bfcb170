"""A crisis: the switch (crisis mode for a brand or the whole organization), its room (timeline, roles,
the playbook run as a checklist) and the report written at close (tertulia.crisis.mode, .room)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization


class CrisisState(models.TextChoices):
    ACTIVE = "active", _("In crisis mode")
    CLOSED = "closed", _("Closed")


class Crisis(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Empty: the whole organization is in crisis mode.
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    title = models.CharField(_("what is happening"), max_length=200)
    state = models.CharField(max_length=8, choices=CrisisState.choices, default=CrisisState.ACTIVE)
    alert = models.ForeignKey(
        "crisis.Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    playbook = models.ForeignKey(
        "crisis.Playbook", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The publishing pause crisis mode holds (publishing.Pause with is_crisis): ended at close.
    pause = models.ForeignKey(
        "publishing.Pause", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Publishing was already paused (for another reason) when crisis mode began: ending the crisis leaves
    # that pause as the team set it, instead of resuming publishing.
    pause_predates = models.BooleanField(default=False)
    is_rehearsal = models.BooleanField(_("rehearsal"), default=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # The post-incident report, written at close from the timeline, the metrics and the checklist, then
    # completed by people (what went well, what to change). Markdown source, rendered escaped.
    report = models.TextField(_("post-incident report"), blank=True, max_length=100_000)
    lessons = models.TextField(_("what we learned"), blank=True, max_length=20_000)

    class Meta:
        verbose_name = _("crisis")
        verbose_name_plural = _("crises")
        ordering = ("-opened_at", "-id")
        constraints = [
            # One active crisis per scope (NULL brands are distinct in unique indexes: two constraints).
            models.UniqueConstraint(
                fields=("organization", "brand"),
                condition=models.Q(state="active", brand__isnull=False),
                name="crisis_one_active_per_brand",
            ),
            models.UniqueConstraint(
                fields=("organization",),
                condition=models.Q(state="active", brand__isnull=True),
                name="crisis_one_active_org_wide",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CrisisRoleKind(models.TextChoices):
    LEAD = "lead", _("Leads the response")
    SPOKESPERSON = "spokesperson", _("Speaks for the brand")
    RESPONDER = "responder", _("Answers in the inbox")
    APPROVER = "approver", _("Approves what goes out")
    MONITOR = "monitor", _("Watches the numbers")


class CrisisRole(models.Model):
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=CrisisRoleKind.choices)
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("crisis_id", "role", "id")
        constraints = [models.UniqueConstraint(fields=("crisis", "user", "role"), name="crisis_role_once")]

    def __str__(self) -> str:
        return f"{self.crisis_id}: {self.user_id} {self.role}"


class ChecklistItem(models.Model):
    """A playbook step copied into this crisis (the playbook may change later), ticked with who and when."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    details = models.TextField(blank=True, max_length=4000)
    role = models.CharField(max_length=16, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("crisis_id", "position", "id")

    def __str__(self) -> str:
        return f"{self.crisis_id}:{self.position} {self.title}"


class TimelineKind(models.TextChoices):
    OPENED = "opened", _("Crisis mode on")
    ALERT = "alert", _("Alert")
    STEP = "step", _("Checklist")
    ROLE = "role", _("Roles")
    NOTE = "note", _("Note")
    PUBLISHING = "publishing", _("Publishing")
    INBOX = "inbox", _("Inbox")
    CLOSED = "closed", _("Crisis mode off")


class TimelineEntry(models.Model):
    """What happened and what was done, in order: written by the crisis actions and by people (notes)."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=TimelineKind.choices)
    text = models.CharField(max_length=1000)  # verbatim; rendered escaped
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("crisis_id", "at", "id")

    def __str__(self) -> str:
        return f"{self.crisis_id}@{self.at:%H:%M} {self.kind}"
