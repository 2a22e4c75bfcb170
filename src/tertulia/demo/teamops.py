"""The demo's on-call: a weekly rotation of the team, one override, one hand-over note, one time off."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Organization, Role
from tertulia.teamops.actions import RotationInput, add_override, add_time_off, create_rotation
from tertulia.teamops.models import HandoverNote, Rotation
from tertulia.teamops.oncall import load_plans

ROTATION_NAME = "Guardia semanal"


@transaction.atomic
def seed_teamops(organization: Organization) -> Rotation | None:
    """Once per organization (a later load leaves what people changed alone)."""
    existing = Rotation.objects.filter(organization=organization, name=ROTATION_NAME).first()
    if existing is not None:
        return existing
    members = list(
        Membership.objects.filter(
            organization=organization,
            is_active=True,
            all_brands=True,
            role__in=(Role.OWNER, Role.BRAND_MANAGER, Role.COMMUNITY_MANAGER),
        )
        .select_related("user")
        .order_by("pk")
    )
    owner = next((m.user for m in members if m.role == Role.OWNER), None)
    if owner is None or len(members) < 2:
        return None
    actor = Actor(user=owner, via="system", label_override="demo loader")
    today = timezone.localdate()
    rotation = create_rotation(
        actor,
        organization,
        RotationInput(
            name=ROTATION_NAME,
            timezone="Europe/Madrid",
            all_brands=True,
            brand_ids=[],
            shift_days=7,
            handover_time=time(9, 0),
            handover_weekday=0,
            starts_on=today - timedelta(days=28),
            member_ids=[m.pk for m in members],
        ),
    )
    now = timezone.now()
    plan = load_plans([rotation], now, now)[0]
    index = plan.shift_index(now) or 0
    current = plan.scheduled(index)
    following = plan.scheduled(index + 1)
    assert current is not None and following is not None
    # The person on call next week covers next Saturday for this week's, a classic swap.
    saturday = now + timedelta(days=(5 - now.weekday()) % 7 or 7)
    add_override(
        actor,
        rotation,
        following.user,
        saturday.replace(hour=8, minute=0, second=0, microsecond=0),
        saturday.replace(hour=20, minute=0, second=0, microsecond=0),
        covers_for=current.user,
        reason="Cambio: boda familiar",
    )
    HandoverNote.objects.create(
        rotation=rotation,
        author=current.user,
        handover_at=plan.next_handover(now),
        text=(
            "Queja abierta de @cliente_enfadado por un pedido roto: prometimos respuesta del almacén. "
            "Ojo al hilo del sorteo, mucho spam por la noche."
        ),
    )
    backup = next((m for m in members if m.pk not in (current.pk, following.pk)), following)
    start = (now + timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
    add_time_off(
        Actor(user=backup.user, via="system"), backup, start, start + timedelta(days=3), "Vacaciones"
    )
    return rotation
