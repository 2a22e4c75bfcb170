"""Rows for analytics tests: messages, response targets, published posts and listening matches."""

from __future__ import annotations

import itertools
from datetime import datetime

from tertulia.core.models import Channel, User
from tertulia.inbox.models import Conversation, Direction, Message, ResponseTarget
from tertulia.listening.models import ListeningQuery, Mention, QueryMatch
from tertulia.publishing.delivery.ledger import new_idempotency_key
from tertulia.publishing.models import DeliveryTarget, Post, PostState, TargetState, Variant

_n = itertools.count(1)


def conversation(channel: Channel, at: datetime) -> Conversation:
    return Conversation.objects.create(
        organization=channel.organization,
        brand=channel.brand,
        channel=channel,
        key=f"k{next(_n)}",
        kind="mention",
        last_message_at=at,
    )


def message(
    channel: Channel,
    at: datetime,
    *,
    outbound: bool = False,
    sentiment: str = "neutral",
    by: User | None = None,
    thread: Conversation | None = None,
) -> Message:
    thread = thread or conversation(channel, at)
    msg = Message.objects.create(
        organization=channel.organization,
        brand=channel.brand,
        channel=channel,
        conversation=thread,
        remote_id=f"r{next(_n)}",
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        kind="mention",
        text="hola",
        sent_at=at,
        sentiment=sentiment,
        sent_by=by,
    )
    return msg


def target(
    thread: Conversation, outcome: str, started: datetime, due: datetime, ended: datetime | None = None
) -> ResponseTarget:
    return ResponseTarget.objects.create(
        conversation=thread,
        brand=thread.brand,
        stage=ResponseTarget.Stage.FIRST,
        outcome=outcome,
        started_at=started,
        due_at=due,
        ended_at=ended,
    )


def sent_post(channel: Channel, at: datetime, remote_id: str = "") -> DeliveryTarget:
    post = Post.objects.create(
        organization=channel.organization, brand=channel.brand, text="Nuevo post", state=PostState.PUBLISHED
    )
    variant = Variant.objects.create(post=post, channel=channel)
    return DeliveryTarget.objects.create(
        organization=channel.organization,
        brand=channel.brand,
        post=post,
        variant=variant,
        channel=channel,
        state=TargetState.SENT,
        due_at=at,
        next_attempt_at=at,
        idempotency_key=new_idempotency_key(),
        sent_at=at,
        remote_id=remote_id or f"p{next(_n)}",
    )


def query_match(query: ListeningQuery, at: datetime, sentiment: str = "neutral") -> QueryMatch:
    mention = Mention.objects.create(
        organization=query.organization,
        network="sandbox",
        remote_id=f"mention{next(_n)}",
        text="se habla de la marca",
        published_at=at,
        sentiment=sentiment,
    )
    return QueryMatch.objects.create(query=query, mention=mention, published_at=at, sentiment=sentiment)
