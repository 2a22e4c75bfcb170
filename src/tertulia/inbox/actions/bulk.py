"""One action on many conversations at once (the list's checkboxes): each conversation goes through
the same action as alone, so every change is checked and audited the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.core.models import User
from tertulia.inbox.actions.assignment import assign
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.actions.status import set_status
from tertulia.inbox.actions.tags import change_tags
from tertulia.inbox.models import Conversation, Status

MAX_BULK = 500
BULK_ACTIONS = ("open", "pending", "closed", "assign", "unassign", "tag", "untag")


@dataclass
class BulkResult:
    done: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (conversation id, why)


def bulk(
    actor: Actor,
    conversations: Sequence[Conversation],
    action: str,
    *,
    assignee: User | None = None,
    tag: str = "",
) -> BulkResult:
    if action not in BULK_ACTIONS:
        raise ActionRefused(_("Unknown action."))
    if len(conversations) > MAX_BULK:
        raise ActionRefused(_("At most %(n)d conversations at once.") % {"n": MAX_BULK})
    if action == "assign" and assignee is None:
        raise ActionRefused(_("Choose whom to assign them to."))
    if action in ("tag", "untag") and not tag.strip():
        raise ActionRefused(_("Choose a tag."))
    result = BulkResult()
    for conversation in conversations:
        try:
            if action in (Status.OPEN, Status.PENDING, Status.CLOSED):
                set_status(actor, conversation, action)
            elif action == "assign":
                assign(actor, conversation, assignee)
            elif action == "unassign":
                assign(actor, conversation, None)
            elif action == "tag":
                change_tags(actor, conversation, add=[tag])
            else:
                change_tags(actor, conversation, remove=[tag])
        except ActionRefused as refusal:
            result.refused.append((conversation.pk, str(refusal)))
        else:
            result.done += 1
    return result
