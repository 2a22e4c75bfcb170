"""What the alert tests share: a team working in a brand, a surge to raise alerts from, a chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import set_brand_access
from tertulia.core.models import Brand, Membership, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.crisis.escalation import StepInput, set_chain
from tertulia.crisis.models import Metric, Surge, Watch, WatchKind

HOSTILE = '<script>alert("x")</script>\u202e\u200b🔥'


@dataclass
class Team:
    org: Organization
    brand: Brand
    other_brand: Brand
    owner: User
    manager: User  # brand manager, every brand
    oncall: User  # community manager, on call
    lead: User  # community manager, second rung
    elsewhere: User  # community manager limited to the other brand
    rival_org: Organization
    rival: User  # owner of another organization


def actor(user: User | None) -> Actor:
    return Actor(user=user, via="web", ip_address="203.0.113.9", user_agent="tests")


@pytest.fixture
def team(db: None) -> Team:
    owner = make_user("duena@example.com", display_name="Dueña", language="es")
    org = make_org("Crisis SA", owner=owner)
    brand = make_brand(org, "Marca")
    other = make_brand(org, "Otra")
    manager = make_member(org, Role.BRAND_MANAGER, email="gestora@example.com", display_name="Gestora")
    oncall = make_member(org, Role.COMMUNITY_MANAGER, email="guardia@example.com", display_name="Ana Guardia")
    lead = make_member(
        org, Role.COMMUNITY_MANAGER, email="jefa@example.com", display_name="Bea Jefa", language="en"
    )
    elsewhere = make_member(org, Role.COMMUNITY_MANAGER, email="otra@example.com", display_name="Carla Otra")
    member = Membership.objects.get(organization=org, user=elsewhere)
    set_brand_access(Actor.system("test"), member, all_brands=False, brands=[other])
    rival_owner = make_user("rival@example.com")
    rival_org = make_org("Rival SL", owner=rival_owner)
    return Team(org, brand, other, owner, manager, oncall, lead, elsewhere, rival_org, rival_owner)


def chain(team: Team, *steps: tuple[User, int, bool]) -> None:
    set_chain(actor(team.owner), team.brand, [StepInput(u.pk, wait, email) for u, wait, email in steps])


def make_surge(
    brand: Brand,
    *,
    ratio: float = 5.2,
    metric: str = Metric.VOLUME,
    explanation: dict[str, object] | None = None,
    at: datetime | None = None,
    rehearsal: bool = False,
) -> Surge:
    watch, _created = Watch.objects.get_or_create(
        brand=brand, kind=WatchKind.BRAND, defaults={"organization_id": brand.organization_id}
    )
    at = at or timezone.now()
    return Surge.objects.create(
        organization_id=brand.organization_id,
        brand=brand,
        watch=watch,
        metric=metric,
        started_at=at - timedelta(minutes=5),
        detected_at=at,
        window_minutes=5,
        observed=52.0 if metric == Metric.VOLUME else 0.62,
        expected=10.0 if metric == Metric.VOLUME else 0.12,
        ratio=ratio,
        p_value=1e-9,
        explanation=explanation
        if explanation is not None
        else {
            "top_terms": [["refund", 31], ["broken", 12]],
            "authors": [{"handle": "@loud_customer", "followers": 120000}, {"handle": "@another"}],
            "examples": [{"text": "My order arrived broken, I want a refund", "author": "@loud_customer"}],
        },
        is_rehearsal=rehearsal,
    )
