"""Approval workflows per brand: ordered steps, each approved by any or all of its approvers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand
from tertulia.publishing.models.posts import Post


class WorkflowKind(models.TextChoices):
    NORMAL = "normal", _("Everyday")
    # Applies instead of the everyday one while the brand (or the organization) is in crisis mode.
    CRISIS = "crisis", _("Crisis mode")


class ApprovalWorkflow(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="approval_workflows")
    kind = models.CharField(_("applies"), max_length=16, choices=WorkflowKind.choices)
    # Off: posts by people who may publish go straight out (contributors' posts are always reviewed).
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("approval workflow")
        verbose_name_plural = _("approval workflows")
        constraints = [models.UniqueConstraint(fields=("brand", "kind"), name="workflow_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.brand} ({self.get_kind_display()})"


class StepMode(models.TextChoices):
    ANY = "any", _("Any one approver")
    ALL = "all", _("Every approver")


class ApprovalStep(models.Model):
    workflow = models.ForeignKey(ApprovalWorkflow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("step"), max_length=120)
    mode = models.CharField(
        _("who must approve"), max_length=8, choices=StepMode.choices, default=StepMode.ANY
    )
    # Approvers by role (every active member with one of these roles) and by person.
    roles = models.JSONField(_("roles"), default=list, blank=True)
    people = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ("position",)
        constraints = [models.UniqueConstraint(fields=("workflow", "position"), name="step_position_unique")]

    def __str__(self) -> str:
        return self.name


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REQUEST_CHANGES = "request_changes", _("Requested changes")


class ApprovalDecision(models.Model):
    """One person's decision on one version of a post at one step. Rows are only inserted."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="decisions")
    version = models.PositiveIntegerField()
    step_position = models.PositiveSmallIntegerField()
    step_name = models.CharField(max_length=120)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("post", "version", "step_position", "user"), name="decision_once_per_step"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} v{self.version} step {self.step_position}: {self.decision}"
