"""The guard's housekeeping: the outgoing-items log is kept 30 days (bursts look 14 days back), and
devices nobody has used for a year are forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tertulia.guard.models import KnownDevice, OutgoingEvent
from tertulia.tasks.ticker import every

EVENTS_KEPT = timedelta(days=30)
DEVICES_KEPT = timedelta(days=365)
BATCH = 5_000


def prune(now: datetime | None = None) -> int:
    """Delete what is too old to matter, in small batches (never one long write lock)."""
    now = now or timezone.now()
    removed = 0
    while True:
        ids = list(
            OutgoingEvent.objects.filter(acted_at__lt=now - EVENTS_KEPT).values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        removed += OutgoingEvent.objects.filter(pk__in=ids).delete()[0]
    removed += KnownDevice.objects.filter(last_seen__lt=now - DEVICES_KEPT).delete()[0]
    return removed


@every(3600.0, name="guard.prune")
def prune_old_records() -> None:
    prune()
