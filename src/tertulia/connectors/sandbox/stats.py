"""Counts over the sandbox for dashboards: how much traffic reached some accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from tertulia.connectors.sandbox.handles import normalize_handle
from tertulia.connectors.sandbox.models import SandboxInboundEvent


def hourly_inbound_volume(
    handles: list[str], hours: int = 24, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """Messages that reached these accounts in each of the last `hours` hours, oldest first, zero-filled."""
    now = (now or timezone.now()).astimezone(UTC)
    current = now.replace(minute=0, second=0, microsecond=0)
    buckets = [current - timedelta(hours=n) for n in range(hours - 1, -1, -1)]
    if not buckets or not handles:
        return [(b, 0) for b in buckets]
    rows = (
        SandboxInboundEvent.objects.filter(
            recipient__handle__in={normalize_handle(h) for h in handles},
            created_at__gte=buckets[0],
            created_at__lt=current + timedelta(hours=1),
        )
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count("id"))
    )
    counts = {row["hour"].astimezone(UTC): row["n"] for row in rows}
    return [(b, counts.get(b, 0)) for b in buckets]
