"""Writing the moderation log: one ModerationAction per action, each change also in the audit trail.

A person's action is written at once (`log_action`); what the rules do to a batch of new messages is
collected and written in two inserts at the end of the batch (`write_batch`), so a spam wave costs
the ingest transaction two queries for its log, not two per message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from tertulia.core.actions.audit import entry_for, record, record_many
from tertulia.core.actions.context import Actor
from tertulia.core.models import User
from tertulia.inbox.models import Conversation, Message
from tertulia.live.publish import notify_organization
from tertulia.moderation.models import ModerationAction
from tertulia.moderation.models.action import MAX_REASON

OBJECT_TYPE = "moderation.action"


def audit(actor: Actor, action: ModerationAction, event: str, changes: Mapping[str, Any]) -> None:
    record(actor, action.organization, event, action, changes, object_type=OBJECT_TYPE)


def new_action(
    *,
    message: Message,
    conversation: Conversation,
    action_type: str,
    status: str,
    reason: str,
    params: Mapping[str, Any] | None = None,
    automatic: bool = False,
    rule_id: int | None = None,
    rule_name: str = "",
    requested_by: User | None = None,
    key: str = "",
    error: str = "",
) -> ModerationAction:
    """An action as it stands now, with its reason; not saved yet."""
    return ModerationAction(
        organization_id=message.organization_id,
        brand_id=message.brand_id,
        channel_id=message.channel_id,
        conversation=conversation,
        message=message,
        automatic=automatic,
        rule_id=rule_id,
        rule_name=rule_name[:120],
        action_type=action_type,
        params=dict(params or {}),
        status=status,
        reason=reason[:MAX_REASON],
        requested_by=requested_by,
        key=key[:64],
        error=error[:500],
    )


def _created(action: ModerationAction) -> dict[str, Any]:
    """The audit entry's changes for a new action."""
    changes: dict[str, Any] = {
        "status": [None, action.status],
        "reason": [None, action.reason],
        "message": [None, action.message_id],
        "rule": [None, action.rule_name or None],
    }
    if action.params:
        changes["params"] = [None, action.params]
    if action.error:
        changes["error"] = [None, action.error]
    return changes


def log_action(actor: Actor, **values: Any) -> ModerationAction:
    """Store one action (see `new_action` for the values) and audit it."""
    action = new_action(**values)
    action.save()
    audit(actor, action, f"moderation.{action.action_type}", _created(action))
    return action


def write_batch(taken: Sequence[tuple[Actor, ModerationAction]]) -> list[ModerationAction]:
    """Store the actions a batch's rules took, and their audit entries, in two inserts.

    The entries are what `tertulia.core.actions.audit.record` writes, one per action.
    """
    actions = ModerationAction.objects.bulk_create([action for _actor, action in taken])
    record_many(
        [
            entry_for(
                actor,
                action.organization_id,
                f"moderation.{action.action_type}",
                action,
                _created(action),
                object_type=OBJECT_TYPE,
            )
            for (actor, _unsaved), action in zip(taken, actions, strict=True)
        ]
    )
    return actions


def queue(action_ids: Sequence[int]) -> None:
    """Network actions run after the transaction commits, in a worker (never inside it)."""
    if not action_ids:
        return
    from tertulia.moderation.tasks import execute_action

    ids = list(action_ids)
    transaction.on_commit(lambda: [execute_action(pk) for pk in ids])


def changed(organization_id: int) -> None:
    """The moderation page and the approvals queue refresh (after the transaction commits)."""
    notify_organization(organization_id, "moderation")
