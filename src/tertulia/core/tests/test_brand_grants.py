"""Grants per brand and per channel: querysets restricted by person and action (docs/permissions.md)."""

from __future__ import annotations

import pytest

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import GrantRefused, brand_access_of, set_brand_access, set_operators
from tertulia.core.actions.organizations import change_member_role
from tertulia.core.models import AuditEntry, Brand, BrandAccess, Channel, ChannelOperator, Membership, Role
from tertulia.core.permissions import (
    ORG_WIDE_PERMS,
    ROLE_PERMISSIONS,
    Perm,
    brand_members,
    brands_for,
    covers_all_brands,
    has_perm,
    may_access_brand,
    may_operate_channel,
    operable_channels,
    operable_channels_queryset,
    permissions_of,
    restrict,
)
from tertulia.core.tests.factories import make_brand, make_member, make_org

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def world() -> dict[str, object]:
    org = make_org("Grupo")
    north, south = make_brand(org, "Norte"), make_brand(org, "Sur")
    north_channel = connect_channel(SYSTEM, north, "sandbox", "norte_shop")
    south_channel = connect_channel(SYSTEM, south, "sandbox", "sur_shop")
    limited = make_member(org, Role.BRAND_MANAGER)
    member = Membership.objects.get(user=limited, organization=org)
    set_brand_access(SYSTEM, member, all_brands=False, brands=[south])
    return {
        "org": org,
        "north": north,
        "south": south,
        "north_channel": north_channel,
        "south_channel": south_channel,
        "limited": limited,
        "member": Membership.objects.get(pk=member.pk),
    }


def test_a_limited_member_sees_only_their_brands(world: dict) -> None:
    org, north, south, limited = world["org"], world["north"], world["south"], world["limited"]
    assert list(brands_for(limited, org)) == [south]
    assert may_access_brand(limited, south) and not may_access_brand(limited, north)
    assert has_perm(limited, org, Perm.MANAGE_BRANDS, south)
    assert not has_perm(limited, org, Perm.MANAGE_BRANDS, north)
    everyone = make_member(org, Role.ANALYST)
    assert set(brands_for(everyone, org)) == {north, south}
    # Querysets of anything with a brand are narrowed the same way, and to nothing without the permission.
    channels = Channel.objects.all()
    assert list(restrict(channels, limited, org)) == [world["south_channel"]]
    assert set(restrict(channels, everyone, org)) == {world["north_channel"], world["south_channel"]}
    assert list(restrict(channels, everyone, org, Perm.MANAGE_CHANNELS)) == []


def test_nothing_crosses_organizations(world: dict) -> None:
    other = make_org("Otra")
    theirs = make_brand(other, "Suya")
    connect_channel(SYSTEM, theirs, "sandbox", "suya_shop")
    owner = Membership.objects.get(organization=world["org"], role=Role.OWNER).user
    assert theirs not in brands_for(owner, world["org"])
    assert not restrict(Channel.objects.filter(brand=theirs), owner, world["org"]).exists()
    assert not may_access_brand(owner, theirs)
    assert list(brands_for(owner, other)) == []


def test_limited_members_lose_what_covers_the_whole_organization(world: dict) -> None:
    member = world["member"]
    assert permissions_of(member) == ROLE_PERMISSIONS[Role.BRAND_MANAGER] - ORG_WIDE_PERMS
    assert Perm.VIEW_AUDIT not in permissions_of(member)
    assert not covers_all_brands(world["limited"], world["org"])
    owner = Membership.objects.get(organization=world["org"], role=Role.OWNER)
    assert covers_all_brands(owner.user, world["org"])


def test_owners_and_admins_always_have_every_brand(world: dict) -> None:
    org, member = world["org"], world["member"]
    change_member_role(SYSTEM, member, Role.ADMIN)
    # The stored limit stays (it applies again if the role goes back down) but means nothing for an admin.
    assert set(brands_for(world["limited"], org)) == {world["north"], world["south"]}
    assert may_operate_channel(world["limited"], world["north_channel"])
    with pytest.raises(GrantRefused):
        set_brand_access(
            SYSTEM, Membership.objects.get(pk=member.pk), all_brands=False, brands=[world["south"]]
        )
    change_member_role(SYSTEM, Membership.objects.get(pk=member.pk), Role.BRAND_MANAGER)
    assert list(brands_for(world["limited"], org)) == [world["south"]]


def test_a_grant_outside_the_member_brands_operates_nothing(world: dict) -> None:
    limited, north_channel, south_channel = world["limited"], world["north_channel"], world["south_channel"]
    ChannelOperator.objects.create(channel=north_channel, user=limited)  # stale: made behind the actions
    ChannelOperator.objects.create(channel=south_channel, user=limited)
    assert not may_operate_channel(limited, north_channel)
    assert may_operate_channel(limited, south_channel)
    assert operable_channels(limited, world["org"], [north_channel, south_channel]) == [south_channel]
    assert list(operable_channels_queryset(limited, world["org"])) == [south_channel]


def test_limiting_a_member_is_audited_and_drops_their_grants_elsewhere(world: dict) -> None:
    org, north, south = world["org"], world["north"], world["south"]
    person = make_member(org, Role.COMMUNITY_MANAGER)
    member = Membership.objects.get(user=person, organization=org)
    ChannelOperator.objects.create(channel=world["north_channel"], user=person)
    ChannelOperator.objects.create(channel=world["south_channel"], user=person)
    boss = Actor(user=Membership.objects.get(organization=org, role=Role.OWNER).user, via="web")
    set_brand_access(boss, member, all_brands=False, brands=[south])
    entry = AuditEntry.objects.filter(action="member.brands", object_id=str(member.pk)).get()
    assert entry.changes["brands"] == ["*", ["Sur"]]
    assert entry.changes["operates"] == [["@norte_shop"], None]
    assert list(ChannelOperator.objects.filter(user=person).values_list("channel__handle", flat=True)) == [
        "sur_shop"
    ]
    assert brand_access_of(Membership.objects.get(pk=member.pk)) == [south]
    # Back to every brand: audited again; the grant on the other brand's channel is not restored.
    set_brand_access(boss, member, all_brands=True)
    assert not BrandAccess.objects.filter(membership=member).exists()
    last = AuditEntry.objects.filter(action="member.brands", object_id=str(member.pk)).order_by("-pk").first()
    assert last is not None and last.changes["brands"] == [["Sur"], "*"]
    assert set(brands_for(person, org)) == {north, south}
    # Saving what is already there writes nothing.
    before = AuditEntry.objects.count()
    set_brand_access(boss, member, all_brands=True)
    assert AuditEntry.objects.count() == before


def test_refusals_change_nothing(world: dict) -> None:
    member = world["member"]
    other_brand = make_brand(make_org("Ajena"), "Ajena")
    with pytest.raises(GrantRefused):
        set_brand_access(SYSTEM, member, all_brands=False, brands=[other_brand])
    with pytest.raises(GrantRefused):
        set_brand_access(SYSTEM, member, all_brands=False, brands=[])
    assert brand_access_of(Membership.objects.get(pk=member.pk)) == [world["south"]]


def test_only_people_of_the_channel_brand_can_be_made_operators(world: dict) -> None:
    org, limited = world["org"], world["limited"]
    cm = make_member(org, Role.COMMUNITY_MANAGER)
    with pytest.raises(GrantRefused, match="norte_shop"):
        set_operators(SYSTEM, world["north_channel"], [cm, limited])
    assert not ChannelOperator.objects.filter(channel=world["north_channel"]).exists()
    set_operators(SYSTEM, world["south_channel"], [cm, limited])
    assert set(
        ChannelOperator.objects.filter(channel=world["south_channel"]).values_list("user", flat=True)
    ) == {
        cm.pk,
        limited.pk,
    }
    assert set(brand_members(world["north"]).values_list("user", flat=True)) == set(
        Membership.objects.filter(organization=org).exclude(user=limited).values_list("user", flat=True)
    )


def test_brand_members_lists_each_member_once(world: dict) -> None:
    """A member with every brand and leftover rows of a former limit is still one row."""
    org, north, south = world["org"], world["north"], world["south"]
    person = make_member(org, Role.ANALYST)
    member = Membership.objects.get(user=person, organization=org)
    BrandAccess.objects.create(membership=member, brand=north)
    BrandAccess.objects.create(membership=member, brand=south)
    assert list(brand_members(north).filter(user=person)) == [member]
    assert isinstance(Brand.objects.get(pk=north.pk), Brand)
