"""Threading: which conversation each message belongs to, and what a new message does to it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from tertulia.connectors.base import InboundItem, InboundKind
from tertulia.core.models import Channel, ContactHandle
from tertulia.inbox.ingest.bulk import insert_rows
from tertulia.inbox.models import Conversation, Direction, Kind, Message, Status

PREVIEW = 280
KEY = 255


def conversation_key(item: InboundItem) -> str:
    """The network's grouping (a DM thread, the root post of a reply chain); else the item alone."""
    return (item.conversation_key or item.remote_id)[:KEY]


def kind_of(item: InboundItem) -> str:
    if item.kind == InboundKind.DIRECT_MESSAGE:
        return Kind.DIRECT
    if item.kind in (InboundKind.REPLY, InboundKind.COMMENT):
        return Kind.THREAD
    return Kind.MENTION


def conversations_for(
    channel: Channel, items: Sequence[InboundItem], handles: Mapping[str, ContactHandle]
) -> dict[str, Conversation]:
    """The conversation of every item, keyed by `conversation_key(item)`; created where missing."""
    first: dict[str, InboundItem] = {}
    for item in items:
        first.setdefault(conversation_key(item), item)
    found = {c.key: c for c in Conversation.objects.filter(channel=channel, key__in=list(first))}
    missing = [key for key in first if key not in found]
    if missing:
        new = [_new(channel, key, first[key], handles) for key in missing]
        try:
            with transaction.atomic():
                found.update((c.key, c) for c in insert_rows(new))
        except IntegrityError:  # created by another worker meanwhile
            found.update((c.key, c) for c in Conversation.objects.filter(channel=channel, key__in=missing))
    return found


def _new(channel: Channel, key: str, item: InboundItem, handles: Mapping[str, ContactHandle]) -> Conversation:
    handle = handles.get(item.author.remote_id or item.author.handle)
    return Conversation(
        organization_id=channel.organization_id,
        brand_id=channel.brand_id,
        channel=channel,
        key=key,
        kind=kind_of(item),
        contact_id=handle.contact_id if handle else None,
        preview=item.text[:PREVIEW],
        last_message_at=item.created_at,
        message_count=0,
    )


def apply_to_conversations(channel: Channel, messages: Sequence[Message]) -> list[Conversation]:
    """Counters, last activity, status and the waiting clock of every conversation these touch
    (in memory: the router saves them once, with the SLA fields it sets).

    A customer's message reopens a pending, snoozed or closed conversation and starts the clock
    if nobody is answering yet; a message of ours (sent from the network itself) stops it.
    """
    by_conversation: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        by_conversation[message.conversation_id].append(message)
    if not by_conversation:
        return []
    conversations = list(Conversation.objects.filter(pk__in=list(by_conversation)))
    for conversation in conversations:
        batch = sorted(by_conversation[conversation.pk], key=lambda m: (m.sent_at, m.pk or 0))
        _absorb(conversation, batch)
    return conversations


CHANGED_FIELDS = [
    "message_count",
    "last_message_at",
    "last_inbound_at",
    "last_outbound_at",
    "awaiting_since",
    "first_response_at",
    "status",
    "snoozed_until",
    "intent",
    "sentiment",
    "urgency",
    "language",
    "preview",
    "contact",
    "updated_at",
]


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _absorb(conversation: Conversation, batch: Sequence[Message]) -> None:
    conversation.message_count += len(batch)
    conversation.updated_at = timezone.now()
    for message in batch:
        conversation.last_message_at = _later(conversation.last_message_at, message.sent_at)
        if message.direction == Direction.OUTBOUND:
            conversation.last_outbound_at = _later(conversation.last_outbound_at, message.sent_at)
            if conversation.awaiting_since is not None and message.sent_at >= conversation.awaiting_since:
                conversation.awaiting_since = None
                conversation.first_response_at = conversation.first_response_at or message.sent_at
            continue
        conversation.last_inbound_at = _later(conversation.last_inbound_at, message.sent_at)
        if conversation.awaiting_since is None:
            conversation.awaiting_since = message.sent_at
        if conversation.status != Status.OPEN:
            conversation.status = Status.OPEN
            conversation.snoozed_until = None
            conversation.urgency = message.urgency  # a new matter: the old one's urgency is settled
        if conversation.contact_id is None and message.author is not None:
            conversation.contact_id = message.author.contact_id
        # The newest customer message says what the conversation is about now; urgency only rises
        # while it stays open, so a critical message is not buried by a "thanks" after it.
        conversation.intent = message.intent
        conversation.sentiment = message.sentiment
        conversation.urgency = max(conversation.urgency, message.urgency)
        conversation.preview = message.text[:PREVIEW]
        conversation.language = message.language or conversation.language
