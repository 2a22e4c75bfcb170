"""What a moderation action can be, and where it stands."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActionType(models.TextChoices):
    HIDE = "hide", _("Hide")
    UNHIDE = "unhide", _("Show again")
    DELETE = "delete", _("Delete")
    BLOCK = "block", _("Block the author")
    ESCALATE = "escalate", _("Escalate")
    ASSIGN = "assign", _("Assign")
    TAG = "tag", _("Tag")
    AUTO_REPLY = "auto_reply", _("Automatic reply")


# Done on the network through the channel's connector, after the transaction, by a worker.
NETWORK_ACTIONS = frozenset({ActionType.HIDE, ActionType.UNHIDE, ActionType.DELETE, ActionType.BLOCK})
# What a person may do by hand from a message; the rest are a rule's (or the inbox's own actions).
MANUAL_ACTIONS = NETWORK_ACTIONS
# What a rule may do (showing a message again is a person's decision).
RULE_ACTIONS = frozenset(set(ActionType) - {ActionType.UNHIDE})


class ActionStatus(models.TextChoices):
    PENDING = "pending", _("Queued for the network")
    APPLIED = "applied", _("Done")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")
    REFUSED_BY_GUARDRAIL = "refused_by_guardrail", _("Refused by a guardrail")
    ESCALATED_INSTEAD = "escalated_instead", _("Escalated instead")


# Nothing more will happen to an action in one of these states.
FINAL_STATUSES = frozenset(
    {
        ActionStatus.APPLIED,
        ActionStatus.REJECTED,
        ActionStatus.FAILED,
        ActionStatus.REFUSED_BY_GUARDRAIL,
        ActionStatus.ESCALATED_INSTEAD,
    }
)
