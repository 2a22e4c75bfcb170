"""Webhook events into the inbox.

A verified event is already durable (connectors.webhooks stored it before the network got its
2xx). Here it only tells the poller which channel to read now: the connector's reader is the one
place that turns a network's data into messages, with its cursor, so a webhook that arrives
twice, late or out of order, or never, changes nothing but the delay. (Payload shapes of webhooks
also differ from the read API's and are often partial, e.g. Meta's `feed` changes.)
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from tertulia.connectors.models import EventStatus, InboundEvent
from tertulia.core.models import Channel
from tertulia.inbox.ingest.poller import ensure_cursors, wake

BATCH = 500


def take_ready_events() -> int:
    """Wake the channels named by ready events and mark the events done. Safe in many workers."""
    with transaction.atomic():
        events = list(
            InboundEvent.objects.select_for_update(skip_locked=True)
            .filter(status=EventStatus.READY)
            .order_by("received_at")
            .values_list("pk", "network", "account_id")[:BATCH]
        )
        if not events:
            return 0
        accounts = {(network, account) for _pk, network, account in events if account}
        channel_ids: list[int] = []
        for network in {network for network, _account in accounts}:
            ids = [account for n, account in accounts if n == network]
            channel_ids.extend(
                Channel.objects.filter(network=network, external_id__in=ids).values_list("pk", flat=True)
            )
        if channel_ids:
            ensure_cursors()
            wake(channel_ids)
        InboundEvent.objects.filter(pk__in=[pk for pk, _n, _a in events], status=EventStatus.READY).update(
            status=EventStatus.DONE, processed_at=timezone.now()
        )
    return len(events)
