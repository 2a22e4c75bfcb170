"""Answering: a reply is stored first (as "sending"), then delivered through the channel's connector
in the right thread — a DM to the person, otherwise an answer to their newest message.

Before it is queued, the hijack guard judges it (tertulia.guard): a suspicious one is kept "held"
until a second person releases it, and the delivery task never sends a held reply.

Stored first, so nothing typed is lost if the network or the worker fails: a failed delivery shows
on the message with the network's reason and can be retried; a worker that died mid-way is picked
up by the sweep (tertulia.inbox.delivery), which first asks the network whether the reply is
already there (the idempotency key), so a retry never posts twice.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import Capability
from tertulia.connectors.registry import connector_class
from tertulia.core.actions.context import Actor
from tertulia.inbox.actions.common import ActionRefused, audit, changed
from tertulia.inbox.models import Conversation, Delivery, Direction, Kind, Message, MessageKind

MAX_REPLY = 10_000


def reply_capability(conversation: Conversation) -> Capability:
    return Capability.DIRECT_MESSAGES if conversation.kind == Kind.DIRECT else Capability.REPLY


def can_reply(conversation: Conversation) -> bool:
    return connector_class(conversation.channel.network).supports(reply_capability(conversation))


def _check(conversation: Conversation, text: str) -> None:
    if not text.strip():
        raise ActionRefused(_("A reply cannot be empty."))
    if len(text) > MAX_REPLY:
        raise ActionRefused(_("A reply has at most %(n)d characters.") % {"n": MAX_REPLY})
    if not can_reply(conversation):
        raise ActionRefused(
            _("This network does not let Tertulia answer here; answer on the network itself.")
        )


@transaction.atomic
def send_reply(actor: Actor, conversation: Conversation, text: str, *, idempotency_key: str = "") -> Message:
    """Store the reply and queue its delivery (after commit). The same `idempotency_key` (e.g. a form
    submitted twice) returns the first reply instead of a second one."""
    _check(conversation, text)
    key = (idempotency_key or uuid.uuid4().hex)[:64]
    existing = Message.objects.filter(conversation=conversation, idempotency_key=key).first()
    if existing is not None:
        return existing
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        brand_id=conversation.brand_id,
        channel_id=conversation.channel_id,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        kind=MessageKind.DIRECT_MESSAGE if conversation.kind == Kind.DIRECT else MessageKind.REPLY,
        author_handle=conversation.channel.handle,
        text=text,
        sent_at=timezone.now(),
        sent_by=actor.user,
        delivery=Delivery.SENDING,
        idempotency_key=key,
    )
    audit(actor, conversation, "conversation.reply", {"message": [None, message.pk]})
    changed(conversation)
    if _guard_holds(actor, message):
        return message  # held for a second person (tertulia.guard): released replies are queued then
    _queue(message.pk)
    return message


def _guard_holds(actor: Actor, message: Message) -> bool:
    """The hijack guard's check of what is about to leave; True if the reply waits for review."""
    from tertulia.guard.actions.holds import check_reply

    return check_reply(actor, message) is not None


@transaction.atomic
def retry_reply(actor: Actor, message: Message) -> Message:
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.delivery != Delivery.FAILED:
        raise ActionRefused(_("Only a reply that failed can be sent again."))
    message.delivery = Delivery.SENDING
    message.delivery_error = ""
    message.save(update_fields=["delivery", "delivery_error"])
    audit(actor, message.conversation, "conversation.reply_retry", {"message": [None, message.pk]})
    changed(message.conversation)
    if _guard_holds(actor, message):
        return message
    _queue(message.pk)
    return message


def queue_delivery(message_id: int) -> None:
    """Deliver a stored reply once the transaction commits (the guard's release uses it too)."""
    _queue(message_id)


def _queue(message_id: int) -> None:
    from tertulia.inbox.tasks import deliver_reply

    transaction.on_commit(lambda: deliver_reply(message_id))
