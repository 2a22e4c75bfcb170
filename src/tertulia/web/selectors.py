"""What the pages show, read from the models and, for live activity, through the connectors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tertulia.connectors.base import AccountMetrics, Capability, ConnectorError, InboundItem
from tertulia.connectors.registry import connector_class, connector_for
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, User
from tertulia.core.permissions import may_operate_channel
from tertulia.web.tenant import Tenant

logger = logging.getLogger(__name__)


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
            page = connector_for(channel).fetch_inbound(None, limit=per_channel)
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
                metrics = connector_for(channel).account_metrics()
            except ConnectorError:
                logger.warning("no metrics for channel %s", channel.pk, exc_info=True)
        rows.append(ChannelRow(channel, metrics))
    return rows


def mention_volume(tenant: Tenant) -> list[tuple[datetime, int]]:
    """Messages per hour to the brand's sandbox channels over the last 24 hours."""
    from tertulia.connectors.sandbox.stats import hourly_inbound_volume

    handles = [c.handle for c in brand_channels(tenant) if c.network == "sandbox"]
    return hourly_inbound_volume(handles, hours=24) if handles else []


def rehearsals(tenant: Tenant) -> list[object]:
    from tertulia.connectors.sandbox.simulator.control import crises_for

    handles = [c.handle for c in brand_channels(tenant) if c.network == "sandbox"]
    return list(crises_for(handles)) if handles else []


def stage_rehearsal(tenant: Tenant, actor: Actor) -> bool:
    from tertulia.connectors.sandbox.simulator.control import stage_crisis
    from tertulia.core.actions.audit import record

    handles = [c.handle for c in brand_channels(tenant) if c.network == "sandbox"]
    if not handles:
        return False
    stage_crisis(handles)
    record(actor, tenant.organization, "sandbox.crisis.stage", tenant.brand, {"handles": [None, handles]})
    return True
