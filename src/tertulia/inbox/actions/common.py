"""What every conversation action does after changing something: audit it and tell open pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.inbox.models import Conversation
from tertulia.live.publish import notify_organization

OBJECT_TYPE = "inbox.conversation"


class ActionRefused(ValueError):
    """The action cannot be done as asked; the message says why, in the person's language."""


def audit(actor: Actor, conversation: Conversation, action: str, changes: Mapping[str, Any]) -> None:
    record(actor, conversation.organization, action, conversation, changes, object_type=OBJECT_TYPE)


def changed(conversation: Conversation) -> None:
    """The list and anyone looking at this conversation refresh (after the transaction commits)."""
    notify_organization(conversation.organization_id, "inbox")
    notify_organization(conversation.organization_id, f"conversation-{conversation.pk}")
