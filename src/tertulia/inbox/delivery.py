"""Delivering our replies to the networks, exactly once, and the sweep that finishes what a dead
worker left. See tertulia.inbox.actions.replies for how a reply is stored before it is sent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    Capability,
    Connector,
    ConnectorError,
    OutgoingPost,
    PublishedPost,
)
from tertulia.connectors.registry import open_connector
from tertulia.core.actions.context import Actor
from tertulia.core.models.audit import Via
from tertulia.inbox.actions.common import changed
from tertulia.inbox.ingest.threading import apply_to_conversations
from tertulia.inbox.models import Conversation, Delivery, Direction, Kind, Message
from tertulia.inbox.routing import route
from tertulia.publishing.delivery.pauses import channel_paused
from tertulia.vault import usage

logger = logging.getLogger(__name__)

LOCK_SECONDS = 120  # longer than any connector call (timeouts are ~20 s)
RETRY_AFTER = timedelta(seconds=60)  # a reply still "sending" this long after its last try is retried
GIVE_UP_AFTER = timedelta(hours=1)  # then it is marked failed and a person decides


class NothingToAnswer(ConnectorError):
    """The conversation has no message of the customer's to answer (all deleted, say)."""


def _anchor(conversation: Conversation) -> Message | None:
    """What the reply answers: the customer's newest message that is still there."""
    return (
        Message.objects.filter(conversation=conversation, direction=Direction.INBOUND, is_deleted=False)
        .exclude(remote_id="")
        .order_by("-sent_at", "-id")
        .first()
    )


def _send(connector: Connector, message: Message, *, retrying: bool) -> PublishedPost:
    conversation = message.conversation
    anchor = _anchor(conversation)
    if anchor is None:
        raise NothingToAnswer("no message to answer", retryable=False)
    if conversation.kind == Kind.DIRECT:
        return connector.send_direct_message(
            anchor.author_remote_id or anchor.author_handle,
            message.text,
            idempotency_key=message.idempotency_key,
        )
    post = OutgoingPost(text=message.text, reply_to=anchor.remote_id, idempotency_key=message.idempotency_key)
    if retrying and connector.supports(Capability.FIND_OWN_POST):
        found = connector.find_own_post(
            message.idempotency_key, post, since=message.sent_at - timedelta(minutes=1)
        )
        if found is not None:
            return found
    return connector.publish(post)


def _held_by_crisis_mode(message: Message) -> bool:
    """Crisis mode is checked again right before sending: it may have started after the reply was queued
    (or while it was being retried), or the reply was let out of another hold by someone who is not a
    crisis approver. Such a reply waits for a crisis approver (tertulia.crisis.approval) instead."""
    if not apps.is_installed("tertulia.crisis"):
        return False
    from tertulia.crisis.approval import reply_needs_approval
    from tertulia.guard.actions.holds import hold_for_crisis
    from tertulia.guard.models import GuardHold, HoldCause, HoldState

    if not reply_needs_approval(message.sent_by, message.brand):
        return False
    holds = GuardHold.objects.filter(message_id=message.pk, cause=HoldCause.CRISIS)
    if holds.filter(state=HoldState.RELEASED).exists():  # a crisis approver let this one out
        return False
    with transaction.atomic():
        hold_for_crisis(Actor(user=message.sent_by, via=Via.SYSTEM, label_override="delivery"), message)
    return True


def deliver(message_id: int, *, retrying: bool = False) -> str:
    """Send one stored reply; returns its delivery state afterwards."""
    lock = f"inbox:deliver:{message_id}"
    if not cache.add(lock, 1, LOCK_SECONDS):
        return Delivery.SENDING  # another worker has it
    try:
        message = Message.objects.select_related("conversation__channel").filter(pk=message_id).first()
        if message is None or message.delivery != Delivery.SENDING:
            return message.delivery if message else ""
        if channel_paused(message.conversation.channel_id):
            # Publishing on the channel stopped (a compromised account) after this reply was queued.
            return _failed(
                message,
                ConnectorError(
                    _("Publishing on this channel is paused: not sent. Try again once it resumes."),
                    retryable=False,
                ),
            )
        if _held_by_crisis_mode(message):
            return Delivery.HELD
        try:
            channel = message.conversation.channel
            detail = {"message": message.pk, "conversation": message.conversation_id}
            actor = usage.for_person(message.sent_by, usage.REPLY)
            with open_connector(channel, usage.REPLY, actor, detail) as connector:
                published = _send(connector, message, retrying=retrying)
        except ConnectorError as error:
            return _failed(message, error)
        _delivered(message, published)
        return Delivery.SENT
    finally:
        cache.delete(lock)


def _failed(message: Message, error: ConnectorError) -> str:
    final = not error.retryable or timezone.now() - message.sent_at > GIVE_UP_AFTER
    logger.warning("reply %s not delivered (%s): %s", message.pk, "final" if final else "will retry", error)
    fields = {"delivery_error": str(error)[:500]}
    if final:
        fields["delivery"] = Delivery.FAILED
    Message.objects.filter(pk=message.pk, delivery=Delivery.SENDING).update(**fields)
    changed(message.conversation)
    return fields.get("delivery", Delivery.SENDING)


@transaction.atomic
def _delivered(message: Message, published: PublishedPost) -> None:
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation__channel")
        .get(pk=message.pk)
    )
    if message.delivery != Delivery.SENDING:
        return
    channel = message.conversation.channel
    # The reader may have stored our reply from the network already (it is ours, so it only stopped
    # the clock): this row, with who wrote it in Tertulia, replaces that copy.
    Message.objects.filter(channel=channel, remote_id=published.remote_id[:255]).exclude(
        pk=message.pk
    ).delete()
    message.remote_id = published.remote_id[:255]
    message.url = published.url[:500] if published.url.startswith(("https://", "http://")) else ""
    message.sent_at = published.created_at
    message.delivery = Delivery.SENT
    message.delivery_error = ""
    message.save(update_fields=["remote_id", "url", "sent_at", "delivery", "delivery_error"])
    route(channel, [message], apply_to_conversations(channel, [message]))
    changed(message.conversation)


def stalled(now: datetime | None = None, limit: int = 100) -> list[int]:
    """Replies still sending a while after they were written (a dead worker, a network that failed)."""
    now = now or timezone.now()
    return list(
        Message.objects.filter(delivery=Delivery.SENDING, sent_at__lte=now - RETRY_AFTER)
        .order_by("sent_at")
        .values_list("pk", flat=True)[:limit]
    )
