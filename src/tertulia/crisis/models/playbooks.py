"""Playbooks (seed 001): per brand, the first step, who to contact, what to answer and what not, and
the holding statements approved in calm times (tertulia.crisis.playbooks)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization


class Playbook(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="playbooks")
    name = models.CharField(_("name"), max_length=120)
    # When to use it ("a product recall", "an outage"): the team picks one when crisis mode starts.
    description = models.TextField(_("when to use it"), blank=True, max_length=2000)
    is_default = models.BooleanField(_("used when none is chosen"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking for edits

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ("brand_id", "name", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("brand",), condition=models.Q(is_default=True), name="crisis_playbook_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlaybookStep(models.Model):
    """A line of the checklist: what to do, and which crisis role does it."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(_("step"), max_length=200)
    details = models.TextField(_("how"), blank=True, max_length=4000)
    role = models.CharField(_("who"), max_length=16, blank=True)  # a CrisisRoleKind value, or anyone

    class Meta:
        ordering = ("playbook_id", "position", "id")

    def __str__(self) -> str:
        return self.title


class PlaybookContact(models.Model):
    """Who to call: legal, the spokesperson, the agency. Inside Tertulia or not."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="contacts")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(_("role"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("playbook_id", "position", "id")

    def __str__(self) -> str:
        return self.name


class RuleKind(models.TextChoices):
    DO = "do", _("Do")
    DONT = "dont", _("Do not")


class DecisionRule(models.Model):
    """ "Do not delete negative comments", "hide only insults", "answer publicly once, then DM"."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=4, choices=RuleKind.choices, default=RuleKind.DO)
    text = models.CharField(_("rule"), max_length=500)

    class Meta:
        ordering = ("playbook_id", "position", "id")

    def __str__(self) -> str:
        return self.text


class HoldingStatement(models.Model):
    """A pre-approved answer for the first hours, one row per language; pinned in the inbox's saved
    replies while the brand is in crisis mode. Only approved ones are pinned."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="statements")
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), max_length=5000)
    # Who wrote the current text (None: Tertulia's default playbook): never the one who approves it.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("playbook_id", "shortcut", "language")
        constraints = [
            models.UniqueConstraint(
                fields=("playbook", "shortcut", "language"), name="crisis_statement_once_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} ({self.language})"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None
