from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from tertulia.core.actions import brands, channels, contacts
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import (
    LastOwnerError,
    OwnerOnly,
    change_member_role,
    deactivate_member,
    reactivate_member,
)
from tertulia.core.models import AuditEntry, Channel, Membership, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user, objective_values

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>\u200b\u202egnp.exe 😀" * 3


def test_creating_an_organization_makes_its_owner_and_is_audited():
    owner = make_user()
    org = make_org("Acme", owner=owner)
    member = Membership.objects.get(organization=org, user=owner)
    assert member.role == Role.OWNER
    actions = list(AuditEntry.objects.filter(organization=org).values_list("action", flat=True))
    assert "organization.create" in actions
    assert "member.add" in actions


def test_brand_update_records_only_what_changed_with_old_and_new_values():
    org = make_org()
    brand = make_brand(org, "Café")
    actor = Actor.system("tester")
    brands.update_brand(actor, brand, voice_guide="Cercanos", name="Café")
    entry = AuditEntry.objects.filter(action="brand.update").get()
    assert entry.changes == {"voice_guide": ["", "Cercanos"]}
    assert entry.actor_label == "tester"
    assert entry.object_id == str(brand.pk)


def test_update_without_changes_writes_no_audit_entry():
    org = make_org()
    brand = make_brand(org)
    before = AuditEntry.objects.count()
    brands.update_brand(Actor.system(), brand, name=brand.name)
    assert AuditEntry.objects.count() == before


def test_hostile_text_is_stored_verbatim():
    org = make_org()
    brand = make_brand(org)
    brands.update_brand(Actor.system(), brand, voice_guide=HOSTILE)
    brand.refresh_from_db()
    assert brand.voice_guide == HOSTILE


def test_unknown_fields_are_refused():
    org = make_org()
    with pytest.raises(ValueError, match="unknown fields: is_staff, slug"):
        brands.create_brand(Actor.system(), org, name="X", slug="chosen", is_staff=True)
    assert not org.brands.exists()


def test_invalid_brand_leaves_nothing_behind():
    org = make_org()
    before = (AuditEntry.objects.count(), org.brands.count())
    with pytest.raises(ValidationError):
        brands.create_brand(Actor.system(), org, name="x" * 500)
    assert (AuditEntry.objects.count(), org.brands.count()) == before


def test_brand_slugs_are_unique_per_organization_only():
    org_a, org_b = make_org(), make_org()
    first = make_brand(org_a, "Café Sur")
    second = make_brand(org_a, "Café Sur")
    other = make_brand(org_b, "Café Sur")
    assert first.slug == "cafe-sur"
    assert second.slug == "cafe-sur-2"
    assert other.slug == "cafe-sur"


def test_objective_period_must_be_ordered():
    org = make_org()
    brand = make_brand(org)
    with pytest.raises(ValidationError):
        brands.add_objective(Actor.system(), brand, **objective_values(period_end=date(2025, 1, 1)))
    assert not brand.objectives.exists()


def test_last_owner_cannot_be_demoted_or_removed():
    owner = make_user()
    org = make_org(owner=owner)
    member = Membership.objects.get(organization=org, user=owner)
    with pytest.raises(LastOwnerError):
        change_member_role(Actor.system(), member, Role.ADMIN)
    with pytest.raises(LastOwnerError):
        deactivate_member(Actor.system(), member)
    second = make_member(org, Role.OWNER)
    change_member_role(Actor.system(), member, Role.ADMIN)
    assert Membership.objects.get(user=second).role == Role.OWNER


def test_channel_operators_must_be_members_of_the_channel_organization():
    org, other = make_org(), make_org()
    brand = make_brand(org)
    channel = Channel.objects.create(organization=org, brand=brand, network="sandbox", handle="acme")
    insider = make_member(org)
    outsider = make_member(other)
    with pytest.raises(channels.NotAMember, match=f"^{outsider.pk}$"):
        channels.set_channel_operators(Actor.system(), channel, [insider, outsider])
    assert not channel.operator_grants.exists()
    channels.set_channel_operators(Actor.system(), channel, [insider])
    assert list(channel.operator_grants.values_list("user_id", flat=True)) == [insider.pk]
    entry = AuditEntry.objects.filter(action="channel.operators").get()
    assert entry.changes["added"] == [None, [insider.email]]


def test_contact_handles_are_unique_per_organization_and_reach_is_the_largest():
    org = make_org()
    contact = contacts.create_contact(Actor.system(), org, display_name="Blogger")
    contacts.add_handle(Actor.system(), contact, "sandbox", "blogger", followers_count=10_000)
    contacts.add_handle(Actor.system(), contact, "bluesky", "blogger.bsky.social", followers_count=250)
    assert contact.followers == 10_000
    with pytest.raises((ValidationError, IntegrityError)):
        contacts.add_handle(
            Actor.system(),
            contacts.create_contact(Actor.system(), org, display_name="Dup"),
            "sandbox",
            "blogger",
        )
    # Another organization may know the same person independently.
    other = contacts.create_contact(Actor.system(), make_org(), display_name="Blogger")
    contacts.add_handle(Actor.system(), other, "sandbox", "blogger")


def test_only_owners_touch_the_owner_role():
    owner = make_user()
    org = make_org(owner=owner)
    admin = make_member(org, Role.ADMIN)
    target = Membership.objects.get(user=make_member(org, Role.ANALYST))
    as_admin = Actor(user=admin, via="web")
    with pytest.raises(OwnerOnly):
        change_member_role(as_admin, target, Role.OWNER)
    with pytest.raises(OwnerOnly):
        deactivate_member(as_admin, Membership.objects.get(user=owner))
    change_member_role(as_admin, target, Role.BRAND_MANAGER)
    change_member_role(Actor(user=owner, via="web"), target, Role.OWNER)
    assert Membership.objects.get(pk=target.pk).role == Role.OWNER


def test_reactivation_restores_access_and_is_audited():
    org = make_org()
    member = Membership.objects.get(user=make_member(org))
    deactivate_member(Actor.system(), member)
    reactivate_member(Actor.system(), member)
    assert Membership.objects.get(pk=member.pk).is_active
    assert AuditEntry.objects.filter(action="member.reactivate", object_id=str(member.pk)).exists()


@pytest.mark.parametrize(("field", "value"), [("timezone", "Mars/Olympus"), ("language", "not a language")])
def test_brand_time_zone_and_language_are_checked(field, value):
    with pytest.raises(ValidationError) as caught:
        brands.create_brand(Actor.system(), make_org(), name="X", **{field: value})
    assert field in caught.value.message_dict
