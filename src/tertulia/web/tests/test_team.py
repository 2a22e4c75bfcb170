from __future__ import annotations

import pytest
from django.urls import reverse

from tertulia.core.models import Membership, Role, User
from tertulia.core.tests.factories import make_member, make_org, make_user
from tertulia.governance.models import Invitation
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_an_admin_invites_a_person_instead_of_handing_out_a_password():
    """The Team page's form sends an invitation (e-mailed); no password is ever shown to anyone."""
    org = make_org()
    admin = make_member(org, Role.ADMIN)
    response = signed_in(admin).post(
        reverse("web:team"), {"email": "Nuevo@Example.com", "all_brands": "on", "role": "analyst"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=org)
    assert (invitation.email, invitation.role, invitation.all_brands) == (
        "nuevo@example.com",
        Role.ANALYST,
        True,
    )
    assert not User.objects.filter(email="nuevo@example.com").exists()
    page = signed_in(admin).get(reverse("web:team")).content.decode()
    assert 'id="temporary-password"' not in page
    assert "nuevo@example.com" in page and f'id="invitation-{invitation.pk}"' in page


def test_only_member_managers_change_people():
    org = make_org()
    manager = make_member(org, Role.BRAND_MANAGER)
    target = Membership.objects.get(user=make_member(org, Role.ANALYST))
    client = signed_in(manager)
    page = client.get(reverse("web:team")).content.decode()
    assert 'id="invite-form"' not in page
    assert client.post(reverse("web:team"), {"email": "x@example.com", "role": "analyst"}).status_code == 403
    assert client.post(reverse("web:member-role", args=[target.pk]), {"role": "admin"}).status_code == 403
    assert client.post(reverse("web:member-active", args=[target.pk])).status_code == 403
    target.refresh_from_db()
    assert (target.role, target.is_active) == (Role.ANALYST, True)


def test_roles_and_access_change_and_the_last_owner_stays():
    owner = make_user()
    org = make_org(owner=owner)
    admin = make_member(org, Role.ADMIN)
    target = Membership.objects.get(user=make_member(org, Role.ANALYST))
    client = signed_in(admin)
    client.post(reverse("web:member-role", args=[target.pk]), {"role": "community_manager"})
    client.post(reverse("web:member-active", args=[target.pk]))
    target.refresh_from_db()
    assert (target.role, target.is_active) == (Role.COMMUNITY_MANAGER, False)
    client.post(reverse("web:member-active", args=[target.pk]), {"active": "1"})
    target.refresh_from_db()
    assert target.is_active
    # An admin cannot touch the owner; the owner cannot leave the organization ownerless.
    owner_member = Membership.objects.get(user=owner)
    response = client.post(
        reverse("web:member-role", args=[owner_member.pk]), {"role": "analyst"}, follow=True
    )
    assert "Only an owner" in response.content.decode()
    response = signed_in(owner).post(
        reverse("web:member-role", args=[owner_member.pk]), {"role": "admin"}, follow=True
    )
    assert "at least one active owner" in response.content.decode()
    owner_member.refresh_from_db()
    assert owner_member.role == Role.OWNER


def test_members_of_another_organization_are_out_of_reach():
    org, other = make_org(), make_org()
    admin = make_member(org, Role.ADMIN)
    stranger = Membership.objects.get(user=make_member(other, Role.ANALYST))
    client = signed_in(admin)
    assert client.post(reverse("web:member-role", args=[stranger.pk]), {"role": "admin"}).status_code == 404
    assert client.post(reverse("web:member-active", args=[stranger.pk])).status_code == 404


def test_inviting_a_member_again_or_a_bad_address_is_a_form_error():
    org = make_org()
    admin = make_member(org, Role.ADMIN)
    existing = make_member(org, Role.ANALYST)
    client = signed_in(admin)
    twice = client.post(reverse("web:team"), {"email": existing.email, "all_brands": "on", "role": "analyst"})
    assert twice.status_code == 400
    assert "already a member" in twice.content.decode()
    bad = client.post(reverse("web:team"), {"email": "<script>", "all_brands": "on", "role": "analyst"})
    assert bad.status_code == 400
    assert "<script>" not in bad.content.decode()
    assert not Invitation.objects.exists()
