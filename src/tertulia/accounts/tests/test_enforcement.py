"""An organization that requires a second factor: the switch, the web gate, the API gate."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import reverse

from tertulia.accounts.actions.policy import OwnSecondFactorFirst, set_second_factor_required
from tertulia.accounts.enforcement import second_factor_missing, second_factor_missing_in
from tertulia.accounts.tests.conftest import totp_code
from tertulia.api.actions import create_token
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Membership, Organization, Role, User
from tertulia.core.tests.factories import PASSWORD, make_member, make_org
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def org() -> Organization:
    return make_org("Acme")


@pytest.fixture
def owner(org: Organization) -> User:
    user = Membership.objects.get(organization=org, role=Role.OWNER).user
    TOTP.activate(user, SECRET)
    return user


def _require(org: Organization, owner: User) -> None:
    set_second_factor_required(Actor(user=owner, via="web"), org, True)


def test_owners_switch_it_on_from_the_settings_page_and_it_is_audited(org: Organization, owner: User) -> None:
    client = signed_in(owner)
    page = client.get(reverse("accounts:org-security"))
    assert page.status_code == 200
    assert 'id="policy-form"' in page.content.decode()
    saved = client.post(reverse("accounts:org-security"), {"form": "policy", "require_second_factor": "on"})
    assert saved.status_code == 302
    entry = AuditEntry.objects.get(organization=org, action="security.second_factor_policy")
    assert entry.changes == {"require_second_factor": [False, True]}
    assert entry.actor == owner
    # Saving the same again records nothing more.
    client.post(reverse("accounts:org-security"), {"form": "policy", "require_second_factor": "on"})
    assert AuditEntry.objects.filter(action="security.second_factor_policy").count() == 1


def test_whoever_switches_it_on_needs_one_first(org: Organization) -> None:
    admin = make_member(org, Role.ADMIN)
    with pytest.raises(OwnSecondFactorFirst):
        set_second_factor_required(Actor(user=admin, via="web"), org, True)
    page = signed_in(admin).post(
        reverse("accounts:org-security"), {"form": "policy", "require_second_factor": "on"}
    )
    assert page.status_code == 422
    assert "Set up a second factor for yourself first" in page.content.decode()


def test_other_roles_cannot_change_it(org: Organization, owner: User) -> None:
    for role in [Role.BRAND_MANAGER, Role.COMMUNITY_MANAGER, Role.ANALYST, Role.APPROVER, Role.CONTRIBUTOR]:
        member = make_member(org, role)
        TOTP.activate(member, SECRET)
        response = signed_in(member).post(
            reverse("accounts:org-security"), {"form": "policy", "require_second_factor": "on"}
        )
        assert response.status_code == 403, role
    assert not AuditEntry.objects.filter(action="security.second_factor_policy").exists()


def test_a_member_without_one_sets_it_up_before_anything_else(org: Organization, owner: User) -> None:
    _require(org, owner)
    ana = make_member(org, email="ana@acme.test")
    assert second_factor_missing(ana)
    client = signed_in(ana)
    for path in [reverse("web:inbox"), reverse("web:settings"), reverse("accounts:security"), "/publish/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse("mfa_index"), path
    setup = client.get(reverse("mfa_index"))
    assert setup.status_code == 200
    assert 'id="second-factor-required"' in setup.content.decode()
    htmx = client.get(reverse("web:inbox-list"), headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == reverse("mfa_index")
    # Setting one up, the allauth way, is reachable: confirm the password, then the app.
    assert client.get(reverse("account_reauthenticate")).status_code == 200
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    TOTP.activate(ana, SECRET)
    assert client.get(reverse("web:inbox")).status_code == 200


def test_recovery_codes_alone_do_not_count(org: Organization, owner: User) -> None:
    _require(org, owner)
    ana = make_member(org)
    RecoveryCodes.activate(ana)
    assert second_factor_missing(ana)


def test_members_of_other_organizations_are_not_asked(org: Organization, owner: User) -> None:
    _require(org, owner)
    other = make_member(make_org("Relaxed"))
    assert not second_factor_missing(other)
    assert signed_in(other).get(reverse("web:inbox")).status_code == 200
    # A former member of the strict organization is not asked either.
    former = make_member(org)
    Membership.objects.filter(user=former).update(is_active=False)
    assert not second_factor_missing(former)


def test_sign_out_stays_possible(org: Organization, owner: User) -> None:
    _require(org, owner)
    client = signed_in(make_member(org))
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get(reverse("web:inbox"))["Location"].startswith(reverse("web:login"))


def test_the_last_factor_stays_while_it_is_required(org: Organization, owner: User) -> None:
    _require(org, owner)
    client = Client()
    client.post(reverse("web:login"), {"login": owner.email, "password": PASSWORD})
    assert client.post(reverse("mfa_authenticate"), {"code": totp_code(SECRET)}).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    refused = client.post(reverse("mfa_deactivate_totp"))
    assert refused.status_code == 200
    assert "requires a second factor" in refused.content.decode()
    assert Authenticator.objects.filter(user=owner, type="totp").exists()


def test_api_tokens_of_people_without_one_are_refused(org: Organization, owner: User) -> None:
    ana = make_member(org, Role.BRAND_MANAGER)
    _token, plaintext = create_token(Actor.system("test"), ana, org, "ci", ["brands:read"])
    client = Client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/brands", headers=headers).status_code == 200
    _require(org, owner)
    assert second_factor_missing_in(ana, org)
    refused = client.get("/api/v1/brands", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "second_factor_required"
    assert "second factor" in refused.json()["detail"]
    TOTP.activate(ana, SECRET)
    assert client.get("/api/v1/brands", headers=headers).status_code == 200
