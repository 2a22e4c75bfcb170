"""Is publishing held for this brand or channel right now? Asked right before every send."""

from __future__ import annotations

from django.db.models import Q

from tertulia.publishing.models import ChannelPause, Pause


def is_paused(organization_id: int, brand_id: int) -> bool:
    """The cheapest form of the question, asked right before each network call."""
    return (
        Pause.objects.filter(organization_id=organization_id, ended_at__isnull=True)
        .filter(Q(brand_id=brand_id) | Q(brand__isnull=True))
        .exists()
    )


def channel_paused(channel_id: int) -> bool:
    """Whether this one channel is held (a compromised account), asked right before each send."""
    return ChannelPause.objects.filter(channel_id=channel_id, ended_at__isnull=True).exists()


def paused_brand_ids() -> tuple[set[int], set[int]]:
    """(organizations paused whole, brands paused) — so a claim skips what it could not send."""
    rows = Pause.objects.filter(ended_at__isnull=True)
    whole: set[int] = set()
    brands: set[int] = set()
    for organization_id, brand_id in rows.values_list("organization_id", "brand_id"):
        if brand_id is None:
            whole.add(organization_id)
        else:
            brands.add(brand_id)
    return whole, brands


def paused_channel_ids() -> set[int]:
    """Channels held on their own — so a claim skips them too."""
    return set(ChannelPause.objects.filter(ended_at__isnull=True).values_list("channel_id", flat=True))
