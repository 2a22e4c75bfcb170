"""The token-health monitor: refresh credentials before they expire; when that fails, say so.

Runs every few minutes in every worker (a ticker job). A channel whose refresh is refused
is marked "needs reconnect", its managers see it on every page, and the audit trail and
live updates record it. A refresh that fails for a passing reason is tried again next round.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tertulia.connectors.base import AuthenticationFailed, Capability, ConnectorError
from tertulia.connectors.registry import UnknownNetwork, connector_class, open_connector
from tertulia.core.actions.audit import record
from tertulia.core.actions.channels import set_channel_status
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, ChannelStatus
from tertulia.vault import usage
from tertulia.vault.actions import store_credentials
from tertulia.vault.models import Credential

logger = logging.getLogger(__name__)
REFRESH_AHEAD = timedelta(minutes=15)
ACTOR = Actor.system("token health")


def _expiry(credentials: dict[str, str]) -> datetime | None:
    raw = credentials.get("expires_at")
    parsed = parse_datetime(raw) if raw else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)  # a network that omits the offset means UTC
    return parsed


def refresh_one(channel: Channel) -> bool:
    """Refresh one channel's credentials now. True if refreshed; False if it now needs reconnecting."""
    try:
        with open_connector(channel, usage.REFRESH) as connector:
            fresh = dict(connector.refresh_credentials())
    except AuthenticationFailed as exc:
        with transaction.atomic():
            set_channel_status(ACTOR, channel, ChannelStatus.NEEDS_RECONNECT)
            record(
                ACTOR,
                channel.organization,
                "credential.refresh_failed",
                channel,
                {"reason": [None, str(exc)]},
            )
        return False
    store_credentials(ACTOR, channel, fresh, _expiry(fresh))
    return True


def refresh_due(now: datetime | None = None) -> int:
    """Refresh every active channel whose credentials expire within REFRESH_AHEAD. Returns how many."""
    now = now or timezone.now()
    due = Credential.objects.filter(
        expires_at__lte=now + REFRESH_AHEAD, channel__status=ChannelStatus.ACTIVE
    ).values_list("pk", flat=True)
    refreshed = 0
    for pk in list(due[:200]):
        with transaction.atomic():
            # One worker per credential: X's refresh tokens work once, so two at once would break it.
            credential = (
                Credential.objects.select_for_update(skip_locked=True)
                .select_related("channel__organization")
                .filter(pk=pk, expires_at__lte=now + REFRESH_AHEAD)
                .first()
            )
            if credential is None:
                continue
            channel = credential.channel
            try:
                if not connector_class(channel.network).supports(Capability.REFRESH_TOKENS):
                    continue
                refreshed += refresh_one(channel)
            except (ConnectorError, UnknownNetwork):
                logger.warning("refreshing channel %s failed; will retry", channel.pk, exc_info=True)
    return refreshed
