"""Reading the inbox: the conversation list (filters, search, keyset pages) and one conversation.

Shared by the web pages and the API, so both show the same thing. Only conversations of channels
the person may operate are ever read: callers pass those channels in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from tertulia.core.models import Brand, Channel, User
from tertulia.inbox.models import ChannelCursor, Conversation, Message, Status
from tertulia.inbox.search import matching_conversation_ids

PAGE = 50
MAX_PAGE = 200
# How many matching messages a search looks at; their conversations are then listed newest first.
SEARCH_WINDOW = 1000

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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
    """The last row's (time, id): digits only, safe in a URL as it is, exact to the microsecond."""
    micros = (conversation.last_message_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{conversation.pk}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    micros, _, pk = cursor.partition("_")
    if not micros.lstrip("-").isdigit() or not pk.isdigit() or len(cursor) > 40:
        raise BadCursor(cursor)
    try:
        return EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        raise BadCursor(cursor) from None


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
        ids = matching_conversation_ids(brand.pk, query.q, limit=SEARCH_WINDOW)
        conversations = conversations.filter(pk__in=sorted(ids))
    return conversations


def _newest(conversations: QuerySet[Conversation], count: int) -> list[int]:
    """Ids of the `count` newest of a few (a search's at most SEARCH_WINDOW conversations).

    Ranked here, not by the database: asked for them newest first, SQLite walks the brand's
    whole list in that order testing every row against the search's ids (50 to 90 ms for a rare
    word among 250,000 conversations, bench/inbox_list.py, and more as history grows); asked for
    them in no order, it reads just those rows by id.
    """
    ranked = sorted(conversations.values_list("last_message_at", "pk"), reverse=True)
    return [pk for _moment, pk in ranked[:count]]


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
    if query.q.strip():
        conversations = Conversation.objects.filter(pk__in=_newest(conversations, limit + 1))
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


def unreadable(channels: Sequence[Channel]) -> list[Channel]:
    """The channels whose last reading failed (the poller retries them): named above the list, so a
    quiet inbox is never mistaken for a quiet community."""
    failing = set(
        ChannelCursor.objects.filter(channel__in=list(channels), failures__gt=0).values_list(
            "channel_id", flat=True
        )
    )
    return [c for c in channels if c.pk in failing]
