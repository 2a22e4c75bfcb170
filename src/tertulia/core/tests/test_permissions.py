from __future__ import annotations

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import deactivate_member
from tertulia.core.models import Channel, ChannelOperator, Membership, Role
from tertulia.core.permissions import ROLE_PERMISSIONS, Perm, has_perm, may_operate_channel, organizations_of
from tertulia.core.tests.factories import make_brand, make_member, make_org

pytestmark = pytest.mark.django_db


def test_every_role_has_a_permission_set_and_only_owners_and_admins_manage_members():
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    managers = {role for role, perms in ROLE_PERMISSIONS.items() if Perm.MANAGE_MEMBERS in perms}
    assert managers == {Role.OWNER, Role.ADMIN}
    assert ROLE_PERMISSIONS[Role.CONTRIBUTOR] == frozenset({Perm.VIEW, Perm.PROPOSE_POSTS})
    # Contributors propose; they never publish (seed 003).
    assert Perm.PUBLISH_POSTS not in ROLE_PERMISSIONS[Role.CONTRIBUTOR]


def test_permissions_stop_at_the_organization_boundary():
    org, other = make_org(), make_org()
    admin = make_member(org, Role.ADMIN)
    assert has_perm(admin, org, Perm.MANAGE_BRANDS)
    assert not has_perm(admin, other, Perm.VIEW)
    assert list(organizations_of(admin)) == [org]


def test_deactivated_members_lose_everything_at_once():
    org = make_org()
    person = make_member(org, Role.BRAND_MANAGER)
    deactivate_member(Actor.system(), Membership.objects.get(user=person))
    assert not has_perm(person, org, Perm.VIEW)
    assert list(organizations_of(person)) == []


def test_operating_a_channel_needs_a_grant_unless_owner_or_admin():
    org = make_org()
    brand = make_brand(org)
    channel = Channel.objects.create(organization=org, brand=brand, network="sandbox", handle="acme")
    admin = make_member(org, Role.ADMIN)
    manager = make_member(org, Role.COMMUNITY_MANAGER)
    analyst = make_member(org, Role.ANALYST)
    assert may_operate_channel(admin, channel)
    assert not may_operate_channel(manager, channel)
    ChannelOperator.objects.create(channel=channel, user=manager)
    ChannelOperator.objects.create(channel=channel, user=analyst)
    assert may_operate_channel(manager, channel)
    # A grant does not give an analyst a permission their role lacks.
    assert not may_operate_channel(analyst, channel)
