"""Carrying out hide, show again, delete and block on the network, once, outside any ingest transaction.

A queued action (status "pending") is claimed with a conditional update (`locked_until`), so two
workers never run it together; then the channel's connector is called, and the action and the
message (hidden, deleted) are updated. A passing failure (rate limit, network down) leaves it queued
for a later try; a refusal (not supported, not allowed) fails it with the network's reason. The
sweep (tertulia.moderation.tasks) re-runs anything still queued a minute later, so nothing is lost
if a worker dies. Hiding, showing, deleting and blocking are idempotent on the networks, so a retry
after a worker died mid-call does no harm.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import Capability, Connector, ConnectorError
from tertulia.connectors.registry import connector_class, open_connector
from tertulia.core.actions.context import Actor
from tertulia.inbox.actions.common import changed as conversation_changed
from tertulia.inbox.models import Message
from tertulia.moderation.actions.log import audit, changed
from tertulia.moderation.choices import ActionStatus, ActionType
from tertulia.moderation.models import ModerationAction
from tertulia.vault import usage

logger = logging.getLogger(__name__)

LOCK = timedelta(minutes=2)  # longer than any connector call (timeouts are ~20 s)
RETRY_AFTER = timedelta(seconds=60)  # queued this long without a worker taking it: the sweep does
GIVE_UP_AFTER = timedelta(hours=1)  # of passing failures; then it fails and a person decides

CAPABILITY = {
    ActionType.HIDE: Capability.HIDE,
    ActionType.UNHIDE: Capability.HIDE,
    ActionType.DELETE: Capability.DELETE,
    ActionType.BLOCK: Capability.BLOCK,
}


def supported(network: str, action_type: str) -> bool:
    capability = CAPABILITY.get(ActionType(action_type))
    return capability is not None and connector_class(network).supports(capability)


def _claim(action_id: int, now: datetime) -> bool:
    return bool(
        ModerationAction.objects.filter(pk=action_id, status=ActionStatus.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(locked_until=now + LOCK, attempts=F("attempts") + 1)
    )


def execute(action_id: int) -> str:
    """Carry out one queued action; returns its status afterwards ("" if there is no such action)."""
    now = timezone.now()
    if not _claim(action_id, now):
        return ModerationAction.objects.filter(pk=action_id).values_list("status", flat=True).first() or ""
    action = ModerationAction.objects.select_related("channel", "message", "conversation").get(pk=action_id)
    channel, message = action.channel, action.message
    if not supported(channel.network, action.action_type):
        return _fail(
            action,
            _("%(network)s does not let Tertulia do this (%(action)s).")
            % {
                "network": connector_class(channel.network).display_name,
                "action": action.get_action_type_display(),
            },
        )
    target = _target(action, message)
    if not target:
        return _fail(action, _("The network gave no id for this message or its author."))
    try:
        purpose = usage.AUTOMATIC_MODERATION if action.automatic else usage.MODERATE
        detail = {"moderation_action": action.pk, "type": action.action_type}
        actor = None if action.automatic else usage.for_person(action.requested_by, purpose)
        with open_connector(channel, purpose, actor, detail) as connector:
            _call(connector, action.action_type, target)
    except ConnectorError as error:
        started = action.decided_at or action.created_at
        if error.retryable and now - started < GIVE_UP_AFTER:
            return _later(action, str(error), now)
        return _fail(action, str(error))
    except Exception:
        # A bug or a broken credential store: fail this action (visibly) rather than retry it forever.
        logger.exception("moderation action %s failed unexpectedly", action.pk)
        return _fail(action, _("Unexpected error; the worker's log has the details."))
    _applied(action)
    return ActionStatus.APPLIED


def _target(action: ModerationAction, message: Message) -> str:
    if action.action_type == ActionType.BLOCK:
        return message.author_remote_id or message.author_handle
    return message.remote_id


def _call(connector: Connector, action_type: str, target: str) -> None:
    if action_type == ActionType.HIDE:
        connector.hide(target)
    elif action_type == ActionType.UNHIDE:
        connector.unhide(target)
    elif action_type == ActionType.DELETE:
        connector.delete(target)
    elif action_type == ActionType.BLOCK:
        connector.block(target)


def _worker(action: ModerationAction) -> Actor:
    label = f"moderation: {action.rule_name}" if action.automatic else "moderation"
    return Actor.system(label[:255])


def _later(action: ModerationAction, error: str, now: datetime) -> str:
    """A passing failure: stay queued, and wait longer after each try (1, 2, 4... up to 15 minutes)."""
    wait = min(RETRY_AFTER * 2 ** max(action.attempts - 1, 0), timedelta(minutes=15))
    ModerationAction.objects.filter(pk=action.pk, status=ActionStatus.PENDING).update(
        error=error[:500], locked_until=now + wait
    )
    logger.info("moderation action %s will be retried: %s", action.pk, error)
    return ActionStatus.PENDING


@transaction.atomic
def _fail(action: ModerationAction, error: str) -> str:
    updated = ModerationAction.objects.filter(pk=action.pk, status=ActionStatus.PENDING).update(
        status=ActionStatus.FAILED, error=error[:500], locked_until=None, updated_at=timezone.now()
    )
    if updated:
        audit(
            _worker(action),
            action,
            "moderation.failed",
            {"status": [ActionStatus.PENDING, ActionStatus.FAILED], "error": [None, error[:500]]},
        )
        changed(action.organization_id)
        conversation_changed(action.conversation)
    return ActionStatus.FAILED


@transaction.atomic
def _applied(action: ModerationAction) -> None:
    now = timezone.now()
    updated = ModerationAction.objects.filter(pk=action.pk, status=ActionStatus.PENDING).update(
        status=ActionStatus.APPLIED, error="", executed_at=now, locked_until=None, updated_at=now
    )
    if not updated:
        return
    flags = {
        ActionType.HIDE: {"is_hidden": True},
        ActionType.UNHIDE: {"is_hidden": False},
        ActionType.DELETE: {"is_deleted": True},
    }.get(ActionType(action.action_type))
    if flags:
        Message.objects.filter(pk=action.message_id).update(**flags)
    audit(
        _worker(action),
        action,
        "moderation.applied",
        {"status": [ActionStatus.PENDING, ActionStatus.APPLIED]},
    )
    changed(action.organization_id)
    conversation_changed(action.conversation)


def stalled(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Queued actions nobody is working on: never taken a minute after queueing, or due for a retry."""
    now = now or timezone.now()
    rows = ModerationAction.objects.filter(status=ActionStatus.PENDING).filter(
        Q(locked_until__lte=now) | Q(locked_until__isnull=True, updated_at__lte=now - RETRY_AFTER)
    )
    return list(rows.order_by("updated_at").values_list("pk", flat=True)[:limit])
