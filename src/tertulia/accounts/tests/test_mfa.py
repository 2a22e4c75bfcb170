"""Second factors through allauth's pages: TOTP with real codes, recovery codes, removal alerts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.test import Client
from django.urls import reverse

from tertulia.accounts.tests.conftest import totp_code
from tertulia.core.models import AuditEntry, Membership, Organization, Role, User
from tertulia.core.tests.factories import PASSWORD, make_member, make_org
from tertulia.inbox.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
Commit = Callable[..., Any]


@pytest.fixture
def org() -> Organization:
    return make_org("Acme")


@pytest.fixture
def owner(org: Organization) -> User:
    return Membership.objects.get(organization=org, role=Role.OWNER).user


@pytest.fixture
def ana(org: Organization) -> User:
    return make_member(org, email="ana@acme.test")


def _sign_in_with_password(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post(reverse("web:login"), {"login": email, "password": password})


def _reauthenticated(user: User) -> Client:
    """Signed in with a password and confirmed again, as allauth asks before changing second factors."""
    client = Client()
    assert _sign_in_with_password(client, user.email).status_code == 302
    confirmed = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert confirmed.status_code == 302, confirmed.content.decode()[:500]
    return client


@pytest.mark.django_db(transaction=True)
def test_activate_an_authenticator_app_with_a_real_code(ana: User, owner: User) -> None:
    # Transactional: allauth sends its signals once the request's transaction commits.
    client = _reauthenticated(ana)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    body = page.content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', body)
    assert secret, body[-3000:]
    assert 'class="totp-qr"' in body and "data:image/svg+xml" in body
    wrong = client.post(
        reverse("mfa_activate_totp"),
        {"code": "000000" if totp_code(secret.group(1)) != "000000" else "111111"},
    )
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=ana).exists()
    done = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret.group(1))})
    assert done.status_code == 302
    kinds = set(Authenticator.objects.filter(user=ana).values_list("type", flat=True))
    assert kinds == {"totp", "recovery_codes"}  # recovery codes come with the first factor
    # Sealed at rest with the vault's key, never the base32 secret in clear.
    stored = Authenticator.objects.get(user=ana, type="totp").data["secret"]
    assert stored.startswith("vault1:") and secret.group(1) not in stored
    assert Authenticator.objects.get(user=ana, type="recovery_codes").data["seed"].startswith("vault1:")
    added = AuditEntry.objects.filter(action="person.second_factor_add", object_id=str(ana.pk))
    assert {e.changes["type"][1] for e in added} == {"totp", "recovery_codes"}
    assert client.get(reverse("accounts:security")).content.decode().count('class="status-on"') == 1


def test_sign_in_asks_for_the_code_and_records_it(ana: User, org: Organization) -> None:
    TOTP.activate(ana, SECRET)
    client = Client()
    first = _sign_in_with_password(client, ana.email)
    assert first.status_code == 302 and first["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    wrong = client.post(reverse("mfa_authenticate"), {"code": "12345"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    failed = AuditEntry.objects.get(organization=org, action="signin.failed")
    assert failed.changes["reason"] == [None, "wrong_code"]
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(SECRET)})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(ana.pk)
    entry = AuditEntry.objects.get(organization=org, action="signin")
    assert entry.changes == {"method": [None, "password"], "second_factor": [None, "totp"]}


def test_a_recovery_code_signs_in_once_and_alerts_the_owners(
    ana: User, owner: User, org: Organization, django_capture_on_commit_callbacks: Commit
) -> None:
    TOTP.activate(ana, SECRET)
    codes = RecoveryCodes.activate(ana).generate_codes()
    client = Client()
    _sign_in_with_password(client, ana.email)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(ana.pk)
    assert AuditEntry.objects.filter(organization=org, action="person.recovery_code_use").count() == 1
    alert = Notification.objects.get(user=owner, kind=NotificationKind.SECURITY)
    assert "recovery code" in alert.text and ana.email in alert.text
    assert alert.url == reverse("accounts:org-security")
    alerted = [m for m in mail.outbox if "Security alert" in m.subject]
    assert [m.to for m in alerted] == [[owner.email]]
    assert "recovery code" in alerted[0].subject
    # The same code does not work twice.
    again = Client()
    _sign_in_with_password(again, ana.email)
    assert again.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in again.session


def test_removing_a_second_factor_alerts_every_owner_and_is_audited(
    ana: User, owner: User, org: Organization, django_capture_on_commit_callbacks: Commit
) -> None:
    second_owner = make_member(org, Role.OWNER, email="owner2@acme.test", language="es")
    TOTP.activate(ana, SECRET)
    RecoveryCodes.activate(ana)
    client = _reauthenticated_with_code(ana)
    with django_capture_on_commit_callbacks(execute=True):
        removed = client.post(reverse("mfa_deactivate_totp"))
    assert removed.status_code == 302, removed.content.decode()[:800]
    assert not Authenticator.objects.filter(user=ana).exists()  # the recovery codes went with it
    entries = AuditEntry.objects.filter(organization=org, action="person.second_factor_remove")
    assert {e.changes["type"][0] for e in entries} == {"totp", "recovery_codes"}
    alerts = Notification.objects.filter(kind=NotificationKind.SECURITY)
    assert sorted(a.user.email for a in alerts) == sorted([owner.email, second_owner.email])
    assert all(ana.email in a.text for a in alerts)
    assert "authenticator app" in alerts.get(user=owner).text
    # Each owner reads it in their own language (the second owner chose Spanish).
    alerted = {m.to[0]: m.subject for m in mail.outbox if m.to[0] != ana.email}
    assert sorted(alerted) == sorted([owner.email, second_owner.email])
    assert "Security alert" in alerted[owner.email]
    assert "Alerta de seguridad" in alerted[second_owner.email]
    # allauth tells the person too ("your authenticator app was deactivated").
    assert any(m.to == [ana.email] for m in mail.outbox)


@pytest.mark.django_db(transaction=True)
def test_new_recovery_codes_are_audited_and_reported(ana: User, owner: User, org: Organization) -> None:
    TOTP.activate(ana, SECRET)
    RecoveryCodes.activate(ana)
    client = _reauthenticated_with_code(ana)
    response = client.post(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302, response.content.decode()[:800]
    assert AuditEntry.objects.filter(organization=org, action="person.recovery_codes_regenerate").exists()
    assert Notification.objects.filter(
        user=owner, kind=NotificationKind.SECURITY, text__contains="recovery codes"
    ).exists()
    assert any("Security alert" in m.subject and m.to == [owner.email] for m in mail.outbox)


def _reauthenticated_with_code(user: User) -> Client:
    client = Client()
    _sign_in_with_password(client, user.email)
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(SECRET)})
    assert done.status_code == 302
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302
    return client


def test_the_second_factor_pages_render_in_tertulias_frame(ana: User) -> None:
    TOTP.activate(ana, SECRET)
    RecoveryCodes.activate(ana)
    client = _reauthenticated_with_code(ana)
    for name in ["mfa_index", "mfa_view_recovery_codes", "mfa_list_webauthn", "usersessions_list"]:
        page = client.get(reverse(name))
        assert page.status_code == 200, name
        body = page.content.decode()
        assert 'id="main-nav"' in body, name
        assert "<script>" not in body.replace("<script src=", ""), name  # no inline script
        assert " style=" not in body, name
