"""Open, pending (waiting on the customer), snoozed until a time, closed — and the SLA clock with them.

pending and snoozed pause the running target (nobody is waiting on us); open resumes it with what
was left; closing ends it (met or breached if it was answered, "stopped" if closed unanswered).
A customer writing again reopens the conversation (tertulia.inbox.ingest.threading).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.context import Actor
from tertulia.inbox import sla
from tertulia.inbox.actions.common import ActionRefused, audit, changed
from tertulia.inbox.models import Conversation, Status

FIELDS = ["status", "snoozed_until", "due_at", "sla_warned_at", "sla_breached_at", "updated_at"]


def _apply(conversation: Conversation, status: str, snoozed_until: datetime | None, now: datetime) -> None:
    before = conversation.status
    if status == Status.SNOOZED:
        if snoozed_until is None or snoozed_until <= now:
            raise ActionRefused(_("Choose a time in the future to snooze until."))
    else:
        snoozed_until = None
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    if status in (Status.PENDING, Status.SNOOZED):
        sla.pause_clock(conversation, now)
    elif status == Status.CLOSED:
        sla.stop_clock(conversation, now, answered=False)
        conversation.awaiting_since = None
    elif before in (Status.PENDING, Status.SNOOZED):
        sla.resume_clock(conversation, now)
    elif before == Status.CLOSED and conversation.awaiting_since is not None:
        sla.start_clocks(conversation.brand, [conversation])


@transaction.atomic
def set_status(
    actor: Actor, conversation: Conversation, status: str, snoozed_until: datetime | None = None
) -> Conversation:
    if status not in Status.values:
        raise ActionRefused(_("Unknown status."))
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == status and conversation.snoozed_until == snoozed_until:
        return conversation
    old = (conversation.status, conversation.snoozed_until)
    _apply(conversation, status, snoozed_until, timezone.now())
    conversation.save(update_fields=[*FIELDS, "awaiting_since"])
    audit(
        actor,
        conversation,
        "conversation.status",
        {"status": [old[0], status], "snoozed_until": [old[1], conversation.snoozed_until]},
    )
    changed(conversation)
    return conversation


def wake_snoozed(now: datetime | None = None, limit: int = 500) -> int:
    """Snoozes that ran out: back to open, clock running again. Returns how many woke."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(status=Status.SNOOZED, snoozed_until__lte=now).values_list(
            "pk", flat=True
        )[:limit]
    )
    woken = 0
    for pk in due:
        with transaction.atomic():
            conversation = (
                Conversation.objects.select_for_update().filter(pk=pk, status=Status.SNOOZED).first()
            )
            if conversation is None:
                continue
            _apply(conversation, Status.OPEN, None, now)
            conversation.save(update_fields=FIELDS)
            audit(
                Actor.system("snooze"), conversation, "conversation.status", {"status": ["snoozed", "open"]}
            )
            changed(conversation)
            woken += 1
    return woken
