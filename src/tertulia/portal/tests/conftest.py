"""An organization with two brands and one person of each kind the portal cares about, and a second
organization (for the "not found" checks)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import set_brand_access
from tertulia.core.models import Brand, Membership, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org

SYSTEM = Actor.system("test")


@dataclass
class World:
    org: Organization
    north: Brand
    south: Brand
    owner: User
    cm: User
    manager: User
    contributor: User
    analyst: User
    limited: User  # a contributor who works in the south brand only
    other_org: Organization
    other_brand: Brand
    outsider: User


def actor(user: User) -> Actor:
    return Actor(user=user, via="web")


@pytest.fixture
def world(db: None) -> World:
    org = make_org("Casa Portal")
    north, south = make_brand(org, "Norte"), make_brand(org, "Sur")
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    cm = make_member(org, Role.COMMUNITY_MANAGER, display_name="Carla CM")
    channel = connect_channel(SYSTEM, north, "sandbox", "norte_portal")
    set_channel_operators(SYSTEM, channel, [cm])
    limited = make_member(org, Role.CONTRIBUTOR, display_name="Lola")
    set_brand_access(
        SYSTEM, Membership.objects.get(user=limited, organization=org), all_brands=False, brands=[south]
    )
    other = make_org("Otra Casa")
    return World(
        org=org,
        north=north,
        south=south,
        owner=owner,
        cm=cm,
        manager=make_member(org, Role.BRAND_MANAGER, display_name="Mara"),
        contributor=make_member(org, Role.CONTRIBUTOR, display_name="Jordi"),
        analyst=make_member(org, Role.ANALYST),
        limited=limited,
        other_org=other,
        other_brand=make_brand(other, "Ajena"),
        outsider=Membership.objects.get(organization=other, role=Role.OWNER).user,
    )
