"""An RSS or Atom feed (a blog, a news site) as an organization's listening source.

Polled, not streamed: every `TERTULIA_LISTENING_FEED_SECONDS` (15 minutes unless the operator says
otherwise). Each worker's ticker runs `poll_due_feeds` every `CLAIM_SECONDS`; it claims the feeds
that are due (the same `holder` / `lease_until` columns the streams use: while a feed is being read
they hold the reader's name and a short lease; between reads `lease_until` is when the next read is
due) and hands each to a Huey task, so a slow feed never holds up the ticker.

The reading itself is the feeds connector's (`tertulia.connectors.feeds`): the private-address
guard, the size and time limits, the conditional GET (ETag / Last-Modified) and the cursor that
remembers which entries were returned already. The connector's cursor is the source's cursor, and
it moves in the transaction that stores the entries (`runner.save_batch`).

A feed that fails is read again later and later: the wait doubles with the time since the last good
read (15 minutes, 30, an hour...) up to `MAX_BACKOFF`, and the reason is the source's last error.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from tertulia.connectors.base import ChannelAccount, ConnectorError, InboundItem, RateLimited
from tertulia.connectors.feeds.connector import FeedConnector
from tertulia.listening.ingest import MAX_REMOTE_ID, Item
from tertulia.listening.models import ListeningSource, SourceKind
from tertulia.listening.sources.runner import LeaseLost, holder_name, save_batch
from tertulia.tasks.ticker import every

logger = logging.getLogger(__name__)

NETWORK = "web"
DEFAULT_POLL_SECONDS = 15 * 60
MIN_POLL_SECONDS = 60  # the feeds connector fetches a feed at most once a minute anyway
CLAIM_SECONDS = 30.0
CLAIM_LIMIT = 50  # feeds handed out per tick and worker
LEASE = timedelta(minutes=5)  # longer than a fetch can take (20 s per request, 5 redirects)
MAX_BACKOFF = timedelta(hours=6)
PAGE = 500  # entries taken from one fetch; a feed longer than this gives the rest at the next poll


def poll_interval() -> timedelta:
    seconds = int(getattr(settings, "TERTULIA_LISTENING_FEED_SECONDS", DEFAULT_POLL_SECONDS))
    return timedelta(seconds=max(seconds, MIN_POLL_SECONDS))


def entry_item(entry: InboundItem, channel_name: str) -> Item:
    """A feed entry (as the feeds connector reads it) as an `Item` for the matcher."""
    remote_id = entry.remote_id
    if len(remote_id) > MAX_REMOTE_ID:
        remote_id = "sha256:" + hashlib.sha256(remote_id.encode()).hexdigest()
    feed_title = str(entry.raw.get("feed_title") or "")
    return Item(
        network=NETWORK,
        remote_id=remote_id,
        text=entry.text,
        published_at=entry.created_at,
        url=entry.url,
        author_handle=entry.author.handle,
        author_name=entry.author.display_name,
        language=entry.language or "",
        channel_name=feed_title or channel_name,
    )


def claim_due_feeds(holder: str, limit: int = CLAIM_LIMIT, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` active feeds whose next read is due; the ids won."""
    now = now or timezone.now()
    due = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    candidates = (
        ListeningSource.objects.filter(due, kind=SourceKind.FEED, is_active=True)
        .order_by("lease_until", "pk")
        .values_list("pk", flat=True)
    )
    won = []
    for pk in list(candidates[:limit]):
        if ListeningSource.objects.filter(due, pk=pk, is_active=True).update(
            holder=holder, lease_until=now + LEASE
        ):
            won.append(pk)
    return won


def read_feed(source_id: int, holder: str) -> int:
    """Read one claimed feed once; how many new entries it brought. Always gives the claim back."""
    source = ListeningSource.objects.filter(pk=source_id, holder=holder, kind=SourceKind.FEED).first()
    if source is None:
        return 0  # removed, or the claim ran out and another worker has it
    try:
        connector = FeedConnector(
            ChannelAccount(handle=source.url, external_id=source.url, settings={"url": source.url})
        )
        page = connector.fetch_inbound(source.cursor or None, limit=PAGE)
        items = [entry_item(entry, source.name) for entry in page.items]
        save_batch(source, items, page.cursor or source.cursor, holder)
    except LeaseLost:
        return 0
    except RateLimited as limited:
        # The feed's budget is shared by every source that reads the same address; just wait.
        _release(source, holder, timedelta(seconds=max(limited.retry_after, 1.0)))
        return 0
    except ConnectorError as error:
        _failed(source, holder, str(error))
        return 0
    except Exception:  # a bug must not leave the feed claimed and unread for the lease
        logger.exception("reading listening feed %s failed", source.pk)
        _failed(source, holder, _("Reading this source failed; Tertulia will try again."))
        return 0
    _release(source, holder, poll_interval())
    return len(items)


def _release(source: ListeningSource, holder: str, wait: timedelta) -> None:
    ListeningSource.objects.filter(pk=source.pk, holder=holder).update(
        holder="", lease_until=timezone.now() + wait
    )


def _failed(source: ListeningSource, holder: str, message: str) -> None:
    """Back off: wait as long as it has been since the last good read (so the wait doubles)."""
    now = timezone.now()
    since = now - (source.last_read_at or source.created_at)
    wait = min(max(since, poll_interval()), MAX_BACKOFF)
    logger.warning("listening feed %s: %s; next try in %s", source.pk, message, wait)
    ListeningSource.objects.filter(pk=source.pk, holder=holder).update(
        holder="", lease_until=now + wait, last_error=message[:500]
    )


@db_task()
def poll_feed(source_id: int, holder: str) -> int:
    return read_feed(source_id, holder)


@every(CLAIM_SECONDS, name="listening.feeds_due")
def poll_due_feeds() -> None:
    """Claim the feeds due for reading and hand each to a worker thread."""
    holder = holder_name()
    for source_id in claim_due_feeds(holder):
        poll_feed(source_id, holder)
