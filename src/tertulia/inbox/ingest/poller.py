"""Polling: read every channel that can be read, since its cursor, a page at a time.

Every worker's ticker looks for channels that are due and claims them with a conditional
update (a lease), so each channel is read by one worker at a time whatever the number of
workers; a worker that dies leaves a lease that simply runs out. Each page is ingested and
its cursor saved in one transaction: a crash repeats at most one page, and the repeat is
harmless (messages are unique per network id).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tertulia.connectors.base import AuthenticationFailed, Capability, ConnectorError, RateLimited
from tertulia.connectors.registry import CONNECTORS, UnknownNetwork, connector_class, open_connector
from tertulia.core.models import Channel, ChannelStatus
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import ChannelCursor
from tertulia.vault import usage

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
PAGE_SIZE = 100
MAX_PAGES = 20  # per round: a backlog is read over several rounds, so no channel starves the others
MAX_BACKOFF = timedelta(hours=1)
READING = (
    Capability.READ_MENTIONS,
    Capability.READ_REPLIES,
    Capability.READ_COMMENTS,
    Capability.READ_DIRECT_MESSAGES,
)


def readable(network: str) -> bool:
    try:
        cls = connector_class(network)
    except UnknownNetwork:
        return False
    return any(cls.supports(capability) for capability in READING)


def interval(network: str) -> timedelta:
    """How often to read a channel of this network (the connector's hint, else the setting)."""
    seconds: float = settings.TERTULIA_INBOX_POLL_SECONDS
    with contextlib.suppress(UnknownNetwork):
        seconds = connector_class(network).poll_seconds or seconds
    return timedelta(seconds=seconds)


def ensure_cursors(now: datetime | None = None) -> int:
    """A cursor for every active, readable channel that has none yet (due at once)."""
    now = now or timezone.now()
    networks = [network for network in CONNECTORS if readable(network)]
    channels = Channel.objects.filter(
        status=ChannelStatus.ACTIVE, inbox_cursor__isnull=True, network__in=networks
    ).only("pk")
    new = [ChannelCursor(channel=c, next_poll_at=now) for c in channels]
    ChannelCursor.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def wake(channel_ids: list[int]) -> int:
    """Read these channels at the next tick (a webhook or the sandbox said something arrived)."""
    return ChannelCursor.objects.filter(channel_id__in=channel_ids).update(next_poll_at=timezone.now())


def claim_due(limit: int = 20, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` due channels for this worker; the ids of the cursors it won."""
    now = now or timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    candidates = ChannelCursor.objects.filter(
        free, next_poll_at__lte=now, channel__status=ChannelStatus.ACTIVE
    ).order_by("next_poll_at")
    won = []
    for pk in list(candidates.values_list("pk", flat=True)[:limit]):
        # Conditional update: of several workers racing for a cursor exactly one changes the row.
        if ChannelCursor.objects.filter(free, pk=pk).update(claimed_until=now + LEASE):
            won.append(pk)
    return won


def poll(cursor_id: int) -> int:
    """Read one claimed channel until it has nothing new (or MAX_PAGES); messages stored."""
    row = ChannelCursor.objects.select_related("channel").get(pk=cursor_id)
    channel = row.channel
    stored = 0
    try:
        with open_connector(channel, usage.POLL) as connector:
            for _page in range(MAX_PAGES):
                page = connector.fetch_inbound(row.cursor or None, limit=PAGE_SIZE)
                with transaction.atomic():
                    stored += len(ingest(channel, page.items).created)
                    moved = page.cursor is not None and page.cursor != row.cursor
                    if moved:
                        row.cursor = page.cursor or ""
                        ChannelCursor.objects.filter(pk=row.pk).update(cursor=row.cursor)
                if not moved or len(page.items) < PAGE_SIZE:
                    break
    except RateLimited as limited:
        _release(row, timedelta(seconds=max(limited.retry_after, 1.0)), error=str(limited))
        return stored
    except AuthenticationFailed as failed:
        # The token-health monitor and reconnect flow own this; keep trying slowly meanwhile.
        _fail(row, failed)
        return stored
    except ConnectorError as failed:
        _fail(row, failed)
        return stored
    except Exception as failed:  # a bug must not leave the channel claimed and unread for the lease
        logger.exception("polling channel %s failed", channel.pk)
        _fail(row, failed)
        return stored
    _release(row, interval(channel.network))
    return stored


def _release(row: ChannelCursor, wait: timedelta, error: str = "") -> None:
    now = timezone.now()
    ChannelCursor.objects.filter(pk=row.pk).update(
        claimed_until=None,
        next_poll_at=now + wait,
        last_polled_at=now,
        failures=0 if not error else row.failures,
        last_error=error[:500],
    )


def _fail(row: ChannelCursor, error: Exception) -> None:
    failures = row.failures + 1
    wait = min(interval(row.channel.network) * (2 ** min(failures, 10)), MAX_BACKOFF)
    logger.warning("reading channel %s failed (%s); next try in %s", row.channel_id, error, wait)
    now = timezone.now()
    ChannelCursor.objects.filter(pk=row.pk).update(
        claimed_until=None,
        next_poll_at=now + wait,
        last_polled_at=now,
        failures=failures,
        last_error=str(error)[:500],
    )
