"""What the on-call tests share: an organization with two brands, a team, a weekly rotation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import set_brand_access
from tertulia.core.models import Brand, Membership, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.teamops.actions import RotationInput, create_rotation
from tertulia.teamops.models import Rotation

HOSTILE = '<script>alert("x")</script>\u202e\u200b🔥'
FAMILY = "👩\u200d👩\u200d👧"  # one grapheme of five code points
FLAG = "🇪🇸"
THUMB = "👍🏽"
RTL = "שלום עולם مرحبا بالعالم"


def long_note() -> str:
    unit = f'Cliente {FAMILY} enfadado {FLAG} <b>ojo</b> & "comillas" {THUMB}\n{RTL}\n\n'
    text = (unit * 60)[:1999] + "!"
    assert len(text) == 2000
    return text


@dataclass
class Crew:
    org: Organization
    brand: Brand
    other: Brand
    owner: User
    manager: User  # brand manager, every brand
    ana: User  # community manager
    bea: User  # community manager
    limited: User  # community manager limited to `other`
    analyst: User
    rival_org: Organization
    rival: User


def actor(user: User | None) -> Actor:
    return Actor(user=user, via="web", ip_address="203.0.113.9", user_agent="tests")


def member(user: User, org: Organization) -> Membership:
    return Membership.objects.get(user=user, organization=org)


@pytest.fixture
def crew(db: None) -> Crew:
    owner = make_user("owner@example.com", display_name="Olga Owner")
    org = make_org("Guardia SA", owner=owner)
    brand, other = make_brand(org, "Marca"), make_brand(org, "Otra")
    manager = make_member(org, Role.BRAND_MANAGER, email="manager@example.com", display_name="Marta Manager")
    ana = make_member(org, Role.COMMUNITY_MANAGER, email="ana@example.com", display_name="Ana")
    bea = make_member(org, Role.COMMUNITY_MANAGER, email="bea@example.com", display_name="Bea")
    limited = make_member(org, Role.COMMUNITY_MANAGER, email="lim@example.com", display_name="Lía")
    set_brand_access(Actor.system("test"), member(limited, org), all_brands=False, brands=[other])
    analyst = make_member(org, Role.ANALYST, email="analyst@example.com", display_name="Analía")
    rival = make_user("rival@example.com")
    rival_org = make_org("Rival SL", owner=rival)
    return Crew(org, brand, other, owner, manager, ana, bea, limited, analyst, rival_org, rival)


def weekly(
    crew: Crew,
    people: list[User],
    *,
    name: str = "Guardia",
    all_brands: bool = True,
    brands: list[Brand] | None = None,
    starts_on: date = date(2026, 1, 5),
    weekday: int | None = 0,
    at: time = time(9, 0),
    days: int = 7,
    tz: str = "Europe/Madrid",
) -> Rotation:
    return create_rotation(
        actor(crew.owner),
        crew.org,
        RotationInput(
            name=name,
            timezone=tz,
            all_brands=all_brands,
            brand_ids=[b.pk for b in brands or []],
            shift_days=days,
            handover_time=at,
            handover_weekday=weekday,
            starts_on=starts_on,
            member_ids=[member(p, crew.org).pk for p in people],
        ),
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    from datetime import UTC

    return datetime(year, month, day, hour, minute, tzinfo=UTC)
