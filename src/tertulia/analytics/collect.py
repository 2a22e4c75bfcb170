"""Collecting metrics from the networks: account figures and each published post's figures.

Every active channel whose network reports metrics has a Collection row saying when it is next
due. A worker claims due channels by moving `next_at` forward in one conditional UPDATE (the worker
whose UPDATE changed the row does the work, so several workers never ask twice), asks the network,
and stores:

- the account's followers and following on today's ChannelDay (the brand's calendar day);
- for posts sent in the last POST_WINDOW, their likes, reposts, replies, quotes and (where the
  network gives them) impressions, on PostMetrics. Older posts keep their last figures.

A failing network backs off (doubling up to MAX_BACKOFF) and says why on the channel's row; it
never stops the other channels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tertulia.analytics.models import ChannelDay, Collection, PostMetrics
from tertulia.analytics.rollup import local_day
from tertulia.connectors.base import AccountMetrics, Capability, ConnectorError
from tertulia.connectors.base import PostMetrics as NetworkPostMetrics
from tertulia.connectors.registry import UnknownNetwork, connector_class, open_connector
from tertulia.core.models import Channel
from tertulia.core.models.channel import ChannelStatus
from tertulia.publishing.models import DeliveryTarget, TargetState
from tertulia.vault import usage

logger = logging.getLogger(__name__)

EVERY = timedelta(hours=1)
POST_WINDOW = timedelta(days=30)
BATCH = 100  # remote ids per post_metrics call (X takes 100 ids a request)
MAX_BACKOFF = timedelta(hours=6)
CLAIM_LIMIT = 20  # channels per worker per pass
LEASE = timedelta(minutes=10)


def collects(channel: Channel) -> bool:
    """Whether the channel's network reports account or post metrics."""
    try:
        cls = connector_class(channel.network)
    except UnknownNetwork:
        return False
    return cls.supports(Capability.ACCOUNT_METRICS) or cls.supports(Capability.POST_METRICS)


def ensure_collections(now: datetime) -> int:
    """Give every active channel that reports metrics a Collection row, due now. Returns how many were new."""
    missing = Channel.objects.filter(status=ChannelStatus.ACTIVE, metrics_collection__isnull=True)
    rows = [Collection(channel=channel, next_at=now) for channel in missing if collects(channel)]
    Collection.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def claim(now: datetime, limit: int = CLAIM_LIMIT) -> list[Collection]:
    """Due collections this worker won (several workers may call this at once)."""
    won = []
    due = (
        Collection.objects.filter(next_at__lte=now)
        .order_by("next_at")
        .values_list("pk", "next_at")[: limit * 2]
    )
    for pk, next_at in due:
        # Only the worker whose UPDATE still sees the old next_at gets the row.
        if Collection.objects.filter(pk=pk, next_at=next_at).update(
            next_at=now + LEASE, lease_until=now + LEASE
        ):
            won.append(Collection.objects.select_related("channel", "channel__brand").get(pk=pk))
        if len(won) >= limit:
            break
    return won


def collect_due(now: datetime | None = None) -> int:
    """One pass: claim due channels and collect each. Returns how many channels were collected."""
    now = now or timezone.now()
    ensure_collections(now)
    done = 0
    for collection in claim(now):
        if collect(collection, now):
            done += 1
    return done


def collect(collection: Collection, now: datetime) -> bool:
    channel = collection.channel
    if channel.status != ChannelStatus.ACTIVE or not collects(channel):
        collection.delete()  # comes back when the channel is active again
        return False
    try:
        account, posts = _ask(channel, now)
    except ConnectorError as error:
        collection.failures += 1
        wait = min(EVERY * (2 ** min(collection.failures - 1, 8)), MAX_BACKOFF)
        collection.next_at = now + max(wait, timedelta(minutes=5))
        collection.last_error = str(error)[:500]
        collection.lease_until = None
        collection.save(update_fields=["failures", "next_at", "last_error", "lease_until"])
        logger.warning("metrics of channel %s not collected: %s", channel.pk, error.__class__.__name__)
        return False
    with transaction.atomic():
        if account is not None:
            store_account(channel, now, account.followers, account.following)
        store_posts(channel, posts, now)
        collection.failures = 0
        collection.last_error = ""
        collection.last_success_at = now
        collection.next_at = now + EVERY
        collection.lease_until = None
        collection.save(update_fields=["failures", "last_error", "last_success_at", "next_at", "lease_until"])
    return True


def _ask(channel: Channel, now: datetime) -> tuple[AccountMetrics | None, list[NetworkPostMetrics]]:
    cls = connector_class(channel.network)
    targets = recent_targets(channel, now)
    account: AccountMetrics | None = None
    posts: list[NetworkPostMetrics] = []
    with open_connector(channel, usage.METRICS) as connector:
        if cls.supports(Capability.ACCOUNT_METRICS):
            account = connector.account_metrics()
        if cls.supports(Capability.POST_METRICS):
            ids = [t.remote_id for t in targets]
            for start in range(0, len(ids), BATCH):
                posts.extend(connector.post_metrics(ids[start : start + BATCH]))
    return account, posts


def recent_targets(channel: Channel, now: datetime) -> list[DeliveryTarget]:
    return list(
        DeliveryTarget.objects.filter(
            channel=channel, state=TargetState.SENT, sent_at__gte=now - POST_WINDOW
        ).exclude(remote_id="")
    )


def store_account(channel: Channel, now: datetime, followers: int, following: int) -> None:
    """Today's audience of the channel (the last count of the day wins)."""
    day = local_day(channel.brand, now)
    updated = ChannelDay.objects.filter(channel=channel, day=day).update(
        followers=followers, following=following
    )
    if not updated:
        ChannelDay.objects.bulk_create(
            [
                ChannelDay(
                    organization_id=channel.organization_id,
                    brand_id=channel.brand_id,
                    channel=channel,
                    day=day,
                    followers=followers,
                    following=following,
                )
            ],
            update_conflicts=True,
            unique_fields=["channel", "day"],
            update_fields=["followers", "following"],
        )


def store_posts(channel: Channel, figures: Sequence[NetworkPostMetrics], now: datetime) -> int:
    """Upsert the figures of the channel's posts the network answered for; unknown ids are ignored."""
    targets = {
        t.remote_id: t
        for t in DeliveryTarget.objects.filter(channel=channel, remote_id__in=[f.remote_id for f in figures])
    }
    rows = []
    for figure in figures:
        target = targets.get(figure.remote_id)
        if target is None or target.sent_at is None:
            continue
        rows.append(
            PostMetrics(
                target=target,
                organization_id=channel.organization_id,
                brand_id=channel.brand_id,
                channel=channel,
                sent_at=target.sent_at,
                likes=max(figure.likes, 0),
                reposts=max(figure.reposts, 0),
                replies=max(figure.replies, 0),
                quotes=max(figure.quotes, 0),
                impressions=None if figure.impressions is None else max(figure.impressions, 0),
                collected_at=now,
            )
        )
    PostMetrics.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["target"],
        update_fields=["likes", "reposts", "replies", "quotes", "impressions", "collected_at"],
    )
    return len(rows)
