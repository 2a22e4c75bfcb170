"""Crisis rehearsals: a simulated surge on a brand's sandbox channels, so a team can practise."""

from __future__ import annotations

from django.db import transaction

from tertulia.connectors.sandbox.models import SandboxCrisis
from tertulia.connectors.sandbox.simulator import control
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel
from tertulia.live.publish import notify_organization


class NoSandboxChannel(ValueError):
    """Rehearsals run on the sandbox network; the brand has no channel there."""


def _sandbox_handles(brand: Brand) -> list[str]:
    return list(Channel.objects.filter(brand=brand, network="sandbox").values_list("handle", flat=True))


def rehearsals_for(brand: Brand) -> list[SandboxCrisis]:
    handles = _sandbox_handles(brand)
    return list(control.crises_for(handles)) if handles else []


@transaction.atomic
def stage_rehearsal(
    actor: Actor, brand: Brand, topic: str | None = None, minutes: int = 15, multiplier: int = 8
) -> SandboxCrisis:
    handles = _sandbox_handles(brand)
    if not handles:
        raise NoSandboxChannel(brand.name)
    crisis = control.stage_crisis(handles, topic=topic, minutes=minutes, multiplier=multiplier)
    record(
        actor,
        brand.organization,
        "rehearsal.stage",
        brand,
        {
            "topic": [None, crisis.topic],
            "minutes": [None, minutes],
            "multiplier": [None, multiplier],
            "channels": [None, handles],
        },
    )
    notify_organization(brand.organization_id, "crisis")
    return crisis
