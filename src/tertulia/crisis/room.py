"""What the crisis room shows live: the numbers of the crisis's scope, read at each refresh.

- volume per minute and negative share, from the per-minute buckets of the brand watches the
  detector fills (tertulia.crisis.detection): the last hour, minute by minute;
- posts held by the pause (deliveries that came due and wait), replies held for a crisis approver,
  and conversations waiting for an answer in the inbox.

Reads only; a handful of aggregate queries. A person limited to some brands sees the numbers of those
brands only, also in an organization-wide crisis (`brand_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, Sum
from django.utils import timezone

from tertulia.crisis.models import Bucket, Crisis, WatchKind
from tertulia.guard.models import GuardHold, HoldCause, HoldState
from tertulia.inbox.models import Conversation, Status
from tertulia.publishing.actions.pauses import held

WINDOW_MINUTES = 60
BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Minute:
    at: datetime
    volume: int
    negative: int

    @property
    def share(self) -> float | None:
        return self.negative / self.volume if self.volume else None


@dataclass
class Metrics:
    minutes: list[Minute] = field(default_factory=list)
    posts_held: int = 0
    replies_held: int = 0
    conversations_waiting: int = 0
    read_at: datetime | None = None

    @property
    def last_minute(self) -> Minute | None:
        return self.minutes[-1] if self.minutes else None

    @property
    def volume_per_minute(self) -> float:
        """The mean over the last five minutes (the current one is still filling)."""
        recent = self.minutes[-5:]
        return sum(m.volume for m in recent) / len(recent) if recent else 0.0

    @property
    def negative_share(self) -> float | None:
        recent = self.minutes[-15:]
        volume = sum(m.volume for m in recent)
        return sum(m.negative for m in recent) / volume if volume else None

    @property
    def negative_percent(self) -> int | None:
        share = self.negative_share
        return None if share is None else round(share * 100)

    @property
    def peak(self) -> int:
        return max((m.volume for m in self.minutes), default=0)

    def sparkline(self) -> str:
        """The hour minute by minute as block characters, scaled to its peak (no chart library)."""
        top = self.peak
        if not top:
            return BLOCKS[0] * len(self.minutes)
        return "".join(BLOCKS[round(m.volume * (len(BLOCKS) - 1) / top)] for m in self.minutes)


def _scope(crisis: Crisis, brand_ids: Sequence[int] | None, path: str = "brand_id") -> Q:
    scope = Q(**{path: crisis.brand_id}) if crisis.brand_id is not None else Q()
    return scope & Q(**{f"{path}__in": list(brand_ids)}) if brand_ids is not None else scope


def metrics(crisis: Crisis, now: datetime | None = None, brand_ids: Sequence[int] | None = None) -> Metrics:
    """The crisis's numbers now; `brand_ids`: the brands the viewer works in (None: every brand)."""
    now = now or timezone.now()
    end = now.replace(second=0, microsecond=0)
    start = end - timedelta(minutes=WINDOW_MINUTES - 1)
    found = (
        Bucket.objects.filter(
            watch__organization_id=crisis.organization_id,
            watch__kind=WatchKind.BRAND,
            minute__gte=start,
            minute__lte=end,
        )
        .filter(_scope(crisis, brand_ids, "watch__brand_id"))
        .values("minute")
        .annotate(volume=Sum("volume"), negative=Sum("negative"))
        .order_by("minute")
    )
    by_minute = {row["minute"]: (int(row["volume"] or 0), int(row["negative"] or 0)) for row in found}
    minutes = []
    for n in range(WINDOW_MINUTES):
        at = start + timedelta(minutes=n)
        volume, negative = by_minute.get(at, (0, 0))
        minutes.append(Minute(at, volume, negative))
    posts = (
        held(crisis.organization, crisis.brand).filter(_scope(crisis, brand_ids)).count()
        if crisis.state == "active"
        else 0
    )
    replies = GuardHold.objects.filter(
        _scope(crisis, brand_ids),
        organization_id=crisis.organization_id,
        cause=HoldCause.CRISIS,
        state=HoldState.PENDING,
    ).count()
    waiting = Conversation.objects.filter(
        _scope(crisis, brand_ids),
        organization_id=crisis.organization_id,
        status=Status.OPEN,
        awaiting_since__isnull=False,
    ).count()
    return Metrics(minutes, posts, replies, waiting, now)
