"""Webhook intake: store verified events durably, once each, and wake the worker.

The HTTP view (views.py) only verifies and calls `store_events`; the network gets its
2xx only after the events are committed, so a crash before that makes the network
deliver again, and the unique (network, event id) makes that redelivery harmless.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tertulia.connectors.base import WebhookEvent
from tertulia.connectors.models import EventStatus, InboundEvent
from tertulia.connectors.registry import UnknownNetwork, connector_class

MAX_BODY_BYTES = 1024 * 1024
SWEEP_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Intake:
    stored: list[int]
    duplicates: int


def _jsonable(payload: object) -> object:
    # Payloads come from parsed JSON already; this guards connectors that return richer types.
    return json.loads(json.dumps(payload, default=str))


@transaction.atomic
def store_events(network: str, events: Sequence[WebhookEvent]) -> Intake:
    stored: list[int] = []
    duplicates = 0
    for event in events:
        try:
            with transaction.atomic():  # a savepoint, so one duplicate does not undo the others
                row = InboundEvent.objects.create(
                    network=network,
                    event_id=event.event_id[:255],
                    kind=event.kind[:128],
                    account_id=event.account_id[:255],
                    payload=_jsonable(dict(event.payload)),
                )
        except IntegrityError:
            duplicates += 1
            continue
        stored.append(row.pk)
    if stored:
        transaction.on_commit(lambda: _enqueue(stored))
    return Intake(stored=stored, duplicates=duplicates)


def _enqueue(ids: list[int]) -> None:
    from tertulia.connectors.tasks import classify_events

    classify_events(ids)


def classify(ids: Sequence[int]) -> int:
    """Mark received events ready for ingestion, or ignored if their kind is unknown. Safe to repeat."""
    done = 0
    for event in InboundEvent.objects.filter(pk__in=list(ids), status=EventStatus.RECEIVED):
        try:
            known = connector_class(event.network).webhook_kinds
        except UnknownNetwork:
            known = frozenset()
        status = EventStatus.READY if event.kind in known else EventStatus.IGNORED
        done += InboundEvent.objects.filter(pk=event.pk, status=EventStatus.RECEIVED).update(
            status=status, processed_at=timezone.now()
        )
    return done


def sweep() -> int:
    """Classify events whose wake-up was lost (a worker died, the queue was cleared)."""
    stale = InboundEvent.objects.filter(
        status=EventStatus.RECEIVED, received_at__lt=timezone.now() - SWEEP_AFTER
    )
    return classify(list(stale.values_list("pk", flat=True)[:1000]))
