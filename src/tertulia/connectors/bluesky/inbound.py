"""Reading notifications forward in time with a cursor that loses nothing and repeats nothing.

Bluesky's `app.bsky.notification.listNotifications` pages *backwards* (newest first) and
its own cursor only goes further into the past. Tertulia wants the opposite: "what came
after what I already have". So our cursor is a high-water mark: the (indexedAt, uri) of
the last notification handed out. A read walks the listing from the newest notification
down to the mark, then hands out the oldest new ones first, up to `limit`, and moves the
mark to the last notification it walked past (kinds Tertulia does not read, such as likes
and follows, move the mark too, so they are never walked again).

Notifications are listed by the AppView's sort time, which is what `indexedAt` shows;
ties are broken by URI, and the walk only stops at a notification strictly older than the
mark, so two notifications with the same time are never split. Caveat: a post indexed
with a sort time already older than the mark (its author backdated it and the AppView
took longer than that to see it) is not found; Bluesky's own clients behave the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from tertulia.connectors.base import ConnectorError
from tertulia.connectors.bluesky.records import parse_datetime

# The mark of an account that has received nothing yet: everything is new.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Mark:
    at: datetime
    uri: str

    def encode(self) -> str:
        return f"{self.at.isoformat()} {self.uri}".rstrip()


BEGINNING = Mark(_BEGINNING, "")


def parse_cursor(cursor: str) -> Mark:
    at_text, _sep, uri = cursor.strip().partition(" ")
    at = parse_datetime(at_text)
    if at is None or (uri and not uri.startswith("at://")):
        raise ConnectorError(_("This is not a Bluesky cursor: %(cursor)s") % {"cursor": cursor[:80]})
    return Mark(at, uri)


@dataclass(frozen=True)
class Listed:
    """One notification as the walk needs it."""

    mark: Mark
    wanted: bool  # a kind Tertulia reads (mention, reply, quote)
    payload: object  # what the connector turns into an InboundItem


def mark_of(indexed_at: str, uri: str) -> Mark:
    return Mark(parse_datetime(indexed_at) or _BEGINNING, uri)


def select_after(listed: Iterable[Listed], after: Mark, limit: int) -> tuple[list[Listed], Mark]:
    """The oldest `limit` wanted notifications newer than `after`, and the new mark.

    `listed` may come in any order and may repeat a notification (one post can be both a
    reply and a mention of the account: it is handed out once).
    """
    new = sorted({item.mark: item for item in listed if item.mark > after}.values(), key=lambda i: i.mark)
    picked: list[Listed] = []
    mark = after
    for item in new:
        if item.wanted:
            if len(picked) >= limit:
                break
            picked.append(item)
        mark = item.mark
    return picked, mark


def newest_wanted(listed: Iterable[Listed], limit: int) -> tuple[list[Listed], Mark]:
    """A first read: the most recent `limit` wanted notifications (oldest first) and a mark
    after everything listed, so the next read starts from now."""
    ordered = sorted({item.mark: item for item in listed}.values(), key=lambda i: i.mark)
    if not ordered:
        return [], BEGINNING
    wanted = [item for item in ordered if item.wanted]
    return wanted[-limit:] if limit > 0 else [], ordered[-1].mark
