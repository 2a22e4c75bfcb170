"""Each account's inbound: the events that bring mentions, replies, quotes and DMs to it.

Events are written with the post or message, in the same transaction. Readers
page through them by event id, so the id order must be the commit order for
each recipient: `emit` locks the recipients' account rows (in primary-key
order, so two writers cannot deadlock) before inserting, which makes a later
writer wait for an earlier one to commit. Without that, PostgreSQL could
commit event 11 before event 10 and a reader holding cursor 11 would never see 10.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from tertulia.connectors.sandbox.models import (
    InboundEventKind,
    SandboxAccount,
    SandboxBlock,
    SandboxInboundEvent,
    SandboxMessage,
    SandboxMute,
    SandboxPost,
)

MAX_PAGE = 500


def silenced_by(author_id: int, recipient_ids: Iterable[int]) -> set[int]:
    """The recipients who blocked or muted `author_id`: nothing new from them reaches these."""
    ids = set(recipient_ids)
    if not ids:
        return set()
    blocked = SandboxBlock.objects.filter(blocked_id=author_id, blocker_id__in=ids).values_list(
        "blocker_id", flat=True
    )
    muted = SandboxMute.objects.filter(muted_id=author_id, muter_id__in=ids).values_list(
        "muter_id", flat=True
    )
    return set(blocked) | set(muted)


def lock_accounts(account_ids: Iterable[int]) -> None:
    """Row-lock accounts in id order (a no-op on SQLite, whose writers are serialised anyway)."""
    ids = sorted(set(account_ids))
    if ids:
        list(SandboxAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))


def emit(
    recipients: dict[int, str],
    *,
    author_id: int,
    created_at: datetime,
    post: SandboxPost | None = None,
    message: SandboxMessage | None = None,
) -> list[SandboxInboundEvent]:
    """Deliver a post or message to `recipients` ({account id: kind}) who have not silenced its author."""
    wanted = {pk: kind for pk, kind in recipients.items() if pk != author_id}
    for pk in silenced_by(author_id, wanted):
        del wanted[pk]
    if not wanted:
        return []
    lock_accounts(wanted)
    return SandboxInboundEvent.objects.bulk_create(
        [
            SandboxInboundEvent(recipient_id=pk, kind=kind, post=post, message=message, created_at=created_at)
            for pk, kind in sorted(wanted.items())
        ]
    )


def recipients_for_post(post: SandboxPost, mentioned_ids: Iterable[int]) -> dict[int, str]:
    """Who hears about a new post, and as what: reply beats quote beats mention for the same account."""
    recipients = dict.fromkeys(mentioned_ids, InboundEventKind.MENTION.value)
    if post.quote_of is not None:
        recipients[post.quote_of.author_id] = InboundEventKind.QUOTE.value
    if post.in_reply_to is not None:
        # The author of the post answered and the owner of the thread both hear
        # of a reply, as comments under a page's post reach the page.
        recipients[post.in_reply_to.author_id] = InboundEventKind.REPLY.value
        if post.root is not None:
            recipients[post.root.author_id] = InboundEventKind.REPLY.value
    return recipients


@dataclass(frozen=True)
class InboundSlice:
    events: list[SandboxInboundEvent]
    cursor: int | None


def _events(account: SandboxAccount) -> QuerySet[SandboxInboundEvent]:
    return SandboxInboundEvent.objects.filter(recipient=account).select_related(
        "post__author", "post__in_reply_to", "post__quote_of", "message__sender"
    )


def inbound_for(account: SandboxAccount, after: int | None, limit: int) -> InboundSlice:
    """Events for `account`, oldest first.

    `after=None`: the newest `limit` events, and a cursor at the newest (0 when
    the account has none yet: everything after 0 is then exactly what arrives
    from now on). Otherwise: up to `limit` events
    with an id above `after`, and the id of the last one as the new cursor.
    Deleted posts and messages drop their events, so they are never returned.
    """
    limit = max(1, min(limit, MAX_PAGE))
    if after is None:
        events = list(_events(account).order_by("-id")[:limit])
        events.reverse()
        return InboundSlice(events, events[-1].pk if events else 0)
    events = list(_events(account).filter(id__gt=after).order_by("id")[:limit])
    return InboundSlice(events, events[-1].pk if events else after)
