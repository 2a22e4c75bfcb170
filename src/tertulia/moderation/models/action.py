"""One moderation action, automatic or by hand: what was asked, what happened, and why.

This table is the moderation log: every action a rule or a person takes (and every one a
guardrail refused or turned into an escalation) is a row with its reason, and each change of
state is also written to the organization's audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization
from tertulia.inbox.models import Conversation, Message
from tertulia.moderation.choices import NETWORK_ACTIONS, ActionStatus, ActionType

MAX_REASON = 2000


class ModerationAction(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="moderation_actions")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="moderation_actions"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="moderation_actions")
    # Automatic when taken by a rule. The rule's name is kept: the log still reads after it is deleted.
    automatic = models.BooleanField(default=False)
    rule = models.ForeignKey(
        "moderation.ModerationRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule_name = models.CharField(max_length=120, blank=True)
    action_type = models.CharField(_("action"), max_length=16, choices=ActionType.choices)
    # The action's details: {"tag": ...}, {"text": ...} (an automatic reply), {"user": id} (assign).
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=ActionStatus.choices)
    # Why: the rule or the person's words, and what a guardrail decided and why.
    reason = models.TextField(_("reason"), max_length=MAX_REASON)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    # Network actions: attempts so far; an attempt holds the action until `locked_until`, and a
    # retry after a passing failure waits until then too (tertulia.moderation.network).
    attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    # Automatic actions: "<rule>:<message>:<index>", so the same rule never acts twice on a message.
    key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("key",), condition=~models.Q(key=""), name="moderation_action_once"
            ),
        ]
        indexes = [
            models.Index(fields=("brand", "-created_at", "-id"), name="moderation_log"),
            models.Index(fields=("organization", "status"), name="moderation_by_status"),
            models.Index(fields=("message", "action_type"), name="moderation_of_message"),
        ]

    def __str__(self) -> str:
        return f"{self.action_type} {self.message_id} ({self.status})"

    @property
    def is_network(self) -> bool:
        return self.action_type in NETWORK_ACTIONS
