"""One batch of one channel's items through the pipeline, in one transaction.

store (deduplicated by the network's id) → thread (into conversations) → analyse (language,
sentiment, intent, urgency) → route (rules, SLA clock) → tell the open inbox pages.

Everything is done in bulk: a batch costs a handful of queries whatever its size, which is what
lets one worker keep up with a busy brand (bench/inbox_ingest.py measures it). A batch is all or
nothing, so a worker that dies mid-way leaves the cursor or the webhook event where it was and
the next round does the batch again; what was already stored is skipped as a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from tertulia.connectors.base import InboundItem
from tertulia.core.models import Channel, ContactHandle
from tertulia.inbox.ingest.bulk import insert_rows
from tertulia.inbox.ingest.contacts import resolve_authors
from tertulia.inbox.ingest.threading import apply_to_conversations, conversation_key, conversations_for
from tertulia.inbox.models import Delivery, Direction, Message
from tertulia.inbox.routing import route
from tertulia.live.publish import notify_organization
from tertulia.nlp import Analysis, analyse_many

MAX_TEXT = 100_000  # characters kept of one message; networks cap far lower, a hostile source may not


@dataclass
class Ingested:
    created: list[Message] = field(default_factory=list)
    duplicates: int = 0


def _fresh(channel: Channel, items: Sequence[InboundItem]) -> tuple[list[InboundItem], int]:
    """The items not stored yet (and each once), in the order given; and how many were not."""
    unique: dict[str, InboundItem] = {}
    for item in items:
        if item.remote_id:
            unique.setdefault(item.remote_id[:255], item)
    known = set(
        Message.objects.filter(channel=channel, remote_id__in=list(unique)).values_list(
            "remote_id", flat=True
        )
    )
    fresh = [item for remote_id, item in unique.items() if remote_id not in known]
    return fresh, len(items) - len(fresh)


def _is_ours(channel: Channel, item: InboundItem) -> bool:
    """Written by the channel's own account (answered on the network itself, not through Tertulia)."""
    author = item.author
    if channel.external_id and author.remote_id:
        return author.remote_id == channel.external_id
    return bool(author.handle) and author.handle.lstrip("@").lower() == channel.handle.lstrip("@").lower()


def _message(
    channel: Channel, item: InboundItem, handle: ContactHandle | None, analysis: Analysis, ours: bool
) -> Message:
    return Message(
        organization_id=channel.organization_id,
        brand_id=channel.brand_id,
        channel=channel,
        remote_id=item.remote_id[:255],
        direction=Direction.OUTBOUND if ours else Direction.INBOUND,
        kind=str(item.kind),
        author=handle,
        author_remote_id=item.author.remote_id[:255],
        author_handle=item.author.handle[:255],
        author_name=item.author.display_name[:255],
        author_followers=max(item.author.followers_count, 0),
        text=item.text[:MAX_TEXT],
        url=item.url[:500] if item.url.startswith(("https://", "http://")) else "",
        in_reply_to=(item.in_reply_to or "")[:255],
        sent_at=item.created_at,
        language=analysis.language[:8],
        sentiment=str(analysis.sentiment),
        sentiment_score=analysis.sentiment_score,
        intent=str(analysis.intent),
        urgency=int(analysis.urgency),
        delivery=Delivery.SENT if ours else Delivery.RECEIVED,
    )


def ingest(channel: Channel, items: Sequence[InboundItem]) -> Ingested:
    """Store what is new among `items` (one channel's), thread, analyse and route it. Idempotent."""
    with transaction.atomic():
        fresh, duplicates = _fresh(channel, items)
        result = Ingested(duplicates=duplicates)
        if not fresh:
            return result
        ours = [_is_ours(channel, item) for item in fresh]
        handles = resolve_authors(
            channel, (i.author for i, mine in zip(fresh, ours, strict=True) if not mine)
        )
        analyses = analyse_many(
            [item.text for item in fresh], language_hints=[item.language for item in fresh]
        )
        conversations = conversations_for(channel, fresh, handles)
        messages = []
        for item, analysis, mine in zip(fresh, analyses, ours, strict=True):
            handle = None if mine else handles.get(item.author.remote_id or item.author.handle)
            message = _message(channel, item, handle, analysis, mine)
            message.conversation = conversations[conversation_key(item)]
            messages.append(message)
        try:
            with transaction.atomic():
                result.created = insert_rows(messages)
        except IntegrityError:
            # Another worker stored some of them a moment ago (a webhook and a poll racing): skip those.
            result.created = _one_by_one(messages)
            result.duplicates += len(messages) - len(result.created)
        touched = apply_to_conversations(channel, result.created)
        route(channel, result.created, touched)
        notify_organization(channel.organization_id, "inbox")
        inbound = [message.pk for message in result.created if message.direction == Direction.INBOUND]
        if inbound:
            transaction.on_commit(lambda: _listen(inbound))
    return result


def _listen(message_ids: list[int]) -> None:
    """The connected channels are a listening source too: match what was stored, in the background."""
    from tertulia.listening.tasks import listen_to_messages  # listening builds on the inbox, not back

    listen_to_messages(message_ids)


def _one_by_one(messages: list[Message]) -> list[Message]:
    created = []
    for message in messages:
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            continue
        created.append(message)
    return created
