"""What the pages show, read from the models and, for live activity, through the connectors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from django.core.cache import cache

from tertulia.connectors.base import AccountMetrics, Capability, ConnectorError, InboundItem, InboundPage
from tertulia.connectors.registry import connector_class, open_connector
from tertulia.core.models import Channel, User
from tertulia.core.permissions import may_operate_channel
from tertulia.web.tenant import Tenant

logger = logging.getLogger(__name__)


# Every read spends the channel's budget on the network (the sandbox allows 900 reads in
# 15 minutes), and live updates make each open page refresh every few seconds: reads are
# shared for a few seconds between pages, people and (with Redis) processes.
READ_CACHE_SECONDS = 5

T = TypeVar("T")


def _cached(key: str, read: Callable[[], T]) -> T:
    found: T | None = cache.get(key)
    if found is None:
        found = read()
        cache.set(key, found, READ_CACHE_SECONDS)
    return found


def _newest(channel: Channel, limit: int) -> InboundPage:
    with open_connector(channel) as connector:
        return connector.fetch_inbound(None, limit=limit)


def _account_metrics(channel: Channel) -> AccountMetrics:
    with open_connector(channel) as connector:
        return connector.account_metrics()


def brand_channels(tenant: Tenant) -> list[Channel]:
    if tenant.brand is None:
        return []
    return list(Channel.objects.filter(brand=tenant.brand).order_by("network", "handle"))


@dataclass
class Activity:
    channel: Channel
    item: InboundItem


@dataclass
class ActivityFeed:
    items: list[Activity]
    unavailable: list[Channel]
    hidden_channels: int


def recent_activity(tenant: Tenant, user: User, per_channel: int = 30) -> ActivityFeed:
    """The newest messages to the brand's channels the person may operate, newest first."""
    items: list[Activity] = []
    unavailable: list[Channel] = []
    hidden = 0
    for channel in brand_channels(tenant):
        if not may_operate_channel(user, channel):
            hidden += 1
            continue
        if not connector_class(channel.network).supports(Capability.READ_MENTIONS):
            continue
        try:
            page = _cached(f"inbound:{channel.pk}:{per_channel}", partial(_newest, channel, per_channel))
        except ConnectorError:
            logger.warning("could not read activity of channel %s", channel.pk, exc_info=True)
            unavailable.append(channel)
            continue
        items.extend(Activity(channel, item) for item in page.items)
    items.sort(key=lambda a: a.item.created_at, reverse=True)
    return ActivityFeed(items=items[: per_channel * 2], unavailable=unavailable, hidden_channels=hidden)


@dataclass
class ChannelRow:
    channel: Channel
    metrics: AccountMetrics | None


def channel_overview(tenant: Tenant) -> list[ChannelRow]:
    rows = []
    for channel in brand_channels(tenant):
        metrics = None
        if connector_class(channel.network).supports(Capability.ACCOUNT_METRICS):
            try:
                metrics = _cached(f"account-metrics:{channel.pk}", partial(_account_metrics, channel))
            except ConnectorError:
                logger.warning("no metrics for channel %s", channel.pk, exc_info=True)
        rows.append(ChannelRow(channel, metrics))
    return rows


def mention_volume(tenant: Tenant) -> list[tuple[datetime, int]]:
    """Messages per hour to the brand's sandbox channels over the last 24 hours."""
    from tertulia.connectors.sandbox.stats import hourly_inbound_volume

    handles = [c.handle for c in brand_channels(tenant) if c.network == "sandbox"]
    return hourly_inbound_volume(handles, hours=24) if handles else []
