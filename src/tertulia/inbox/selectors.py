"""Reading the inbox: the conversation list (filters, search, keyset pages) and one conversation.

Shared by the web pages and the API, so both show the same thing. Only conversations of channels
the person may operate are ever read: callers pass those channels in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tertulia.core.models import Brand, Channel, User
from tertulia.inbox.models import Conversation, Message, Status
from tertulia.inbox.search import matching_message_ids

PAGE = 50
MAX_PAGE = 200
# How many matching messages a search looks at; their conversations are then listed newest first.
SEARCH_WINDOW = 1000

ASSIGNEE_ME = "me"
ASSIGNEE_NONE = "none"
DUE_SOON = "soon"
DUE_BREACHED = "breached"


class BadCursor(ValueError):
    """A page cursor that was not made by `ConversationPage.next_cursor`."""


@dataclass(frozen=True)
class ConversationQuery:
    """What the list shows. Empty values mean "any"."""

    statuses: tuple[str, ...] = (Status.OPEN,)
    assignee: str = ""  # "me", "none", or a user id
    channel_id: int | None = None
    kind: str = ""
    intent: str = ""
    sentiment: str = ""
    language: str = ""
    tag: str = ""
    min_urgency: int | None = None
    due: str = ""  # "soon" (warned), "breached"
    escalated: bool | None = None
    contact_id: int | None = None
    q: str = ""


@dataclass
class ConversationPage:
    items: list[Conversation]
    next_cursor: str | None
    filters: ConversationQuery = field(default_factory=ConversationQuery)


def encode_cursor(conversation: Conversation) -> str:
    return f"{conversation.last_message_at.isoformat()}_{conversation.pk}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    stamp, _, pk = cursor.rpartition("_")
    moment = parse_datetime(stamp) if stamp else None
    if moment is None or not pk.isdigit():
        raise BadCursor(cursor)
    return moment, int(pk)


def _filtered(
    brand: Brand, channels: Sequence[Channel], query: ConversationQuery, user: User
) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(brand=brand, channel__in=[c.pk for c in channels])
    if query.statuses:
        conversations = conversations.filter(status__in=query.statuses)
    if query.assignee == ASSIGNEE_ME:
        conversations = conversations.filter(assignee=user)
    elif query.assignee == ASSIGNEE_NONE:
        conversations = conversations.filter(assignee__isnull=True)
    elif query.assignee.isdigit():
        conversations = conversations.filter(assignee_id=int(query.assignee))
    if query.channel_id is not None:
        conversations = conversations.filter(channel_id=query.channel_id)
    for name in ("kind", "intent", "sentiment", "language"):
        value = getattr(query, name)
        if value:
            conversations = conversations.filter(**{name: value})
    if query.tag:
        conversations = conversations.filter(tags__name=query.tag)
    if query.min_urgency is not None:
        conversations = conversations.filter(urgency__gte=query.min_urgency)
    if query.due == DUE_BREACHED:
        conversations = conversations.filter(due_at__lte=timezone.now())
    elif query.due == DUE_SOON:
        conversations = conversations.filter(due_at__isnull=False).filter(
            Q(sla_warned_at__isnull=False) | Q(due_at__lte=timezone.now() + timedelta(hours=1))
        )
    if query.escalated is not None:
        conversations = conversations.filter(escalated_at__isnull=not query.escalated)
    if query.contact_id is not None:
        conversations = conversations.filter(contact_id=query.contact_id)
    if query.q.strip():
        ids = matching_message_ids(brand.pk, query.q, limit=SEARCH_WINDOW)
        conversation_ids = Message.objects.filter(pk__in=ids).values("conversation_id")
        conversations = conversations.filter(pk__in=conversation_ids)
    return conversations


def conversation_page(
    brand: Brand,
    channels: Sequence[Channel],
    user: User,
    query: ConversationQuery | None = None,
    cursor: str | None = None,
    limit: int = PAGE,
) -> ConversationPage:
    """One page of the list, newest activity first; `next_cursor` continues after its last row."""
    query = query or ConversationQuery()
    if not channels:
        return ConversationPage([], None, query)
    conversations = _filtered(brand, channels, query, user)
    if cursor:
        moment, pk = decode_cursor(cursor)
        conversations = conversations.filter(
            Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk)
        )
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(
        conversations.select_related("channel", "assignee", "contact")
        .prefetch_related("tags")
        .order_by("-last_message_at", "-id")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return ConversationPage(rows, encode_cursor(rows[-1]) if more and rows else None, query)


def thread(conversation: Conversation, limit: int = 500) -> list[Message]:
    """The conversation's messages, oldest first (the newest `limit` of them)."""
    newest = list(
        conversation.messages.select_related("author__contact", "sent_by").order_by("-sent_at", "-id")[:limit]
    )
    newest.reverse()
    return newest
