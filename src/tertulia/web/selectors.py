"""What the pages show, read from the models (and, for account metrics, through the connectors)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from django.core.cache import cache

from tertulia.connectors.base import AccountMetrics, Capability, ConnectorError
from tertulia.connectors.registry import connector_class, open_connector
from tertulia.core.models import Channel
from tertulia.vault import usage
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


def _account_metrics(channel: Channel) -> AccountMetrics:
    with open_connector(channel, usage.METRICS) as connector:
        return connector.account_metrics()


def brand_channels(tenant: Tenant) -> list[Channel]:
    if tenant.brand is None:
        return []
    return list(Channel.objects.filter(brand=tenant.brand).order_by("network", "handle"))


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
