"""Taking work from the ledger safely, with any number of workers on any number of machines.

On PostgreSQL the claim reads with `FOR UPDATE SKIP LOCKED`: workers never wait for each other and
never take the same row. On SQLite every write transaction takes the database's write lock at BEGIN
(`transaction_mode: IMMEDIATE` in settings), so claims are serialised. Either way the claim bumps the
row's lease token: a worker whose lease expired (it hung, it was killed) can no longer record anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from tertulia.publishing.delivery.pauses import paused_brand_ids, paused_channel_ids
from tertulia.publishing.models import DeliveryTarget, TargetState


def lease_seconds() -> float:
    # Longer than any one network call (connectors time out after ~20 s).
    return float(getattr(settings, "TERTULIA_PUBLISH_LEASE_SECONDS", 90.0))


@dataclass(frozen=True)
class Claim:
    target_id: int
    lease_token: int
    # A previous attempt may have reached the network: look for our post before sending again.
    reconcile: bool


def promote_due(now: datetime | None = None) -> int:
    """scheduled → due for every target whose time has come."""
    now = now or timezone.now()
    due = DeliveryTarget.objects.filter(state=TargetState.SCHEDULED, due_at__lte=now)
    # A read first: an idle dispatcher polls often and must not take SQLite's write lock each time.
    if not due.exists():
        return 0
    return due.update(state=TargetState.DUE, updated_at=now)


def claimable(now: datetime) -> Q:
    """Due and not waiting for a retry, or claimed by a worker whose lease ran out."""
    return Q(state=TargetState.DUE, next_attempt_at__lte=now) | Q(
        state=TargetState.CLAIMED, lease_until__lt=now
    )


def claim(worker: str, limit: int = 20, now: datetime | None = None) -> list[Claim]:
    now = now or timezone.now()
    if not DeliveryTarget.objects.filter(claimable(now)).exists():
        return []  # nothing to do: no write transaction (see promote_due)
    whole, brands = paused_brand_ids()
    channels = paused_channel_ids()
    with transaction.atomic():
        rows = DeliveryTarget.objects.filter(claimable(now))
        if whole:
            rows = rows.exclude(organization_id__in=whole)
        if brands:
            rows = rows.exclude(brand_id__in=brands)
        if channels:
            rows = rows.exclude(channel_id__in=channels)
        rows = rows.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        ids = list(rows.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        DeliveryTarget.objects.filter(pk__in=ids).update(
            state=TargetState.CLAIMED,
            lease_owner=worker[:100],
            lease_until=now + timedelta(seconds=lease_seconds()),
            lease_token=F("lease_token") + 1,
            updated_at=now,
        )
        claimed = DeliveryTarget.objects.filter(pk__in=ids).values_list("pk", "lease_token", "maybe_sent")
        return [Claim(pk, token, maybe) for pk, token, maybe in claimed]
