"""What the guard learns, so the usual stops looking new: a person's devices and networks (at
sign-in, after an action that was not suspicious, and when a second person releases a hold), and a
brand's link domains (after an unsuspicious send, and on release)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from tertulia.core.actions.context import Actor, client_ip
from tertulia.core.models import Brand, User
from tertulia.guard.checks.device import Device
from tertulia.guard.models import DeviceSource, KnownDevice, KnownDomain

# A device seen again is only written back when its last sighting is older than this.
LAST_SEEN_RESOLUTION = timedelta(hours=12)


def learn_device(
    user: User,
    found: Device | None,
    source: str,
    known: Sequence[tuple[str, str, datetime]] | None = None,
) -> None:
    """Remember (or refresh) `found` for `user`. `known`: the person's devices as the gate read them,
    so a device seen recently costs no write at all."""
    if found is None:
        return
    now = timezone.now()
    if known is not None:
        for family, network, last_seen in known:
            if family == found.family and network == found.network:
                if now - last_seen < LAST_SEEN_RESOLUTION:
                    return
                break
    updated = KnownDevice.objects.filter(user=user, family=found.family, network=found.network).update(
        last_seen=now
    )
    if updated:
        return
    try:
        with transaction.atomic():
            KnownDevice.objects.create(
                user=user, family=found.family, network=found.network, source=source, last_seen=now
            )
    except IntegrityError:
        pass  # learned at this very moment by another request


def learn_domains(brand: Brand, found: Iterable[str]) -> None:
    rows = [
        KnownDomain(organization_id=brand.organization_id, brand=brand, domain=domain[:255])
        for domain in dict.fromkeys(found)
        if domain
    ]
    if rows:
        KnownDomain.objects.bulk_create(rows, ignore_conflicts=True)


def learn_at_sign_in(
    sender: Any, request: HttpRequest | None = None, user: User | None = None, **_: Any
) -> None:
    """`user_logged_in` receiver: the device and network of a completed sign-in become known."""
    from tertulia.guard.gate import actor_device

    if request is None or user is None or not getattr(user, "pk", None):
        return
    # Not Actor.from_request: a sign-in request may not carry `request.user` yet.
    actor = Actor(
        user=user,
        via="web",
        ip_address=client_ip(request),
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:255],
    )
    learn_device(user, actor_device(actor), DeviceSource.SIGN_IN)
