"""Password sign-in through allauth at /login/: audit, throttling shared by processes, reset, change."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tertulia.core.models import AuditEntry, Organization, User
from tertulia.core.tests.factories import PASSWORD, make_member, make_org, make_user

pytestmark = pytest.mark.django_db

WRONG = "definitely-not-the-password-🔑"


@pytest.fixture
def org() -> Organization:
    return make_org("Acme")


@pytest.fixture
def ana(org: Organization) -> User:
    return make_member(org, email="ana@acme.test")


def _sign_in(client: Client, email: str, password: str) -> Any:
    return client.post(reverse("web:login"), {"login": email, "password": password})


def test_the_sign_in_page_is_tertulias_and_offers_no_sign_up() -> None:
    page = Client().get(reverse("web:login"))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="login"' in body and 'name="password"' in body
    assert reverse("account_reset_password") in body
    assert reverse("accounts:sso") in body
    assert reverse("account_signup") not in body
    assert "<script>" not in body and " style=" not in body
    # allauth's own address for the page sends people here.
    assert Client().get("/accounts/login/?next=/team/")["Location"] == "/login/?next=/team/"


def test_sign_up_is_closed_without_an_invitation() -> None:
    page = Client().get(reverse("account_signup"))
    assert page.status_code == 200
    assert "Sign Up Closed" in page.content.decode() or "closed" in page.content.decode().lower()
    Client().post(
        reverse("account_signup"), {"email": "x@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert not User.objects.filter(email="x@example.com").exists()


def test_sign_up_with_an_invitation_in_the_session_uses_the_invited_address() -> None:
    client = Client()
    session = client.session
    session["tertulia_invited_email"] = "invited@example.com"
    session.save()
    other = client.post(
        reverse("account_signup"), {"email": "else@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert other.status_code == 200
    assert not User.objects.filter(email="else@example.com").exists()
    done = client.post(
        reverse("account_signup"),
        {"email": "invited@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert done.status_code == 302
    assert User.objects.filter(email="invited@example.com").exists()


def test_a_wrong_password_is_refused_and_audited_without_the_password(ana: User, org: Organization) -> None:
    client = Client(REMOTE_ADDR="127.0.0.9")
    response = _sign_in(client, ana.email, WRONG)
    assert response.status_code == 200
    assert "That e-mail address and password do not match an account." in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.get(organization=org, action="signin.failed")
    assert entry.changes == {"email": [None, ana.email], "reason": [None, "wrong_password"]}
    assert entry.ip_address == "127.0.0.9"
    assert entry.actor is None
    # An address nobody has: recorded without an organization.
    _sign_in(client, "nobody@nowhere.test", WRONG)
    assert AuditEntry.objects.filter(organization=None, action="signin.failed").count() == 1
    everything = json.dumps([list(e.changes.items()) for e in AuditEntry.objects.all()], ensure_ascii=False)
    assert WRONG not in everything and PASSWORD not in everything


def test_a_good_password_signs_in_and_is_audited(ana: User, org: Organization) -> None:
    client = Client()
    response = _sign_in(client, "ANA@acme.test", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(ana.pk)
    entry = AuditEntry.objects.get(organization=org, action="signin")
    assert entry.changes == {"method": [None, "password"]}
    assert entry.actor == ana


def test_five_failures_lock_the_address_even_for_the_right_password(ana: User, org: Organization) -> None:
    for _ in range(5):
        assert "do not match" in _sign_in(Client(), ana.email, WRONG).content.decode()
    locked = Client()
    response = _sign_in(locked, ana.email, PASSWORD)
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in locked.session
    reasons = [e.changes["reason"][1] for e in AuditEntry.objects.filter(action="signin.failed")]
    assert reasons.count("wrong_password") == 5 and reasons.count("throttled") == 1
    # Another address from elsewhere is not affected.
    bea = make_member(org)
    assert _sign_in(Client(REMOTE_ADDR="127.0.0.2"), bea.email, PASSWORD).status_code == 302


def test_ten_failures_from_one_address_lock_that_address(org: Organization) -> None:
    people = [make_member(org) for _ in range(2)]
    for n in range(10):
        _sign_in(Client(REMOTE_ADDR="127.0.0.5"), f"guess{n}@acme.test", WRONG)
    response = _sign_in(Client(REMOTE_ADDR="127.0.0.5"), people[0].email, PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert _sign_in(Client(REMOTE_ADDR="127.0.0.6"), people[1].email, PASSWORD).status_code == 302


def test_throttling_is_shared_by_every_process() -> None:
    """The embedded profile's cache is files in the data directory, so a second process sees the counts."""
    backend = str(settings.CACHES["default"]["BACKEND"])
    if settings.CONFIG.redis_url:
        assert backend.endswith("RedisCache")
        return
    assert backend == "django.core.cache.backends.filebased.FileBasedCache"
    assert Path(str(settings.CACHES["default"]["LOCATION"])) == settings.CONFIG.data_dir / "cache"
    cache.set("tertulia-test-shared", {"attempts": 3}, 60)
    script = (
        "import django, json; django.setup(); from django.core.cache import cache; "
        "print(json.dumps(cache.get('tertulia-test-shared'))); cache.set('tertulia-test-back', 7, 60)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tertulia.settings"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"attempts": 3}
    assert cache.get("tertulia-test-back") == 7


def test_password_reset_by_email(ana: User, org: Organization) -> None:
    client = Client()
    asked = client.post(reverse("account_reset_password"), {"email": "Ana@Acme.test"})
    assert asked.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [ana.email]
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+)", str(mail.outbox[0].body))
    assert link, mail.outbox[0].body
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    new = "una clave nueva bastante larga"
    done = client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert done.status_code == 302
    ana.refresh_from_db()
    assert ana.check_password(new)
    assert AuditEntry.objects.filter(organization=org, action="person.password").exists()
    # Unknown addresses get no e-mail and no hint on the page.
    mail.outbox.clear()
    assert client.post(reverse("account_reset_password"), {"email": "nobody@nowhere.test"}).status_code == 302
    assert mail.outbox == []


def test_password_change_at_the_old_and_new_addresses(ana: User, org: Organization) -> None:
    client = Client()
    _sign_in(client, ana.email, PASSWORD)
    old = client.get(reverse("web:password-change"))
    assert old.status_code == 302 and old["Location"] == reverse("account_change_password")
    new = "otra clave bastante larga"
    changed = client.post(
        reverse("account_change_password"), {"oldpassword": PASSWORD, "password1": new, "password2": new}
    )
    assert changed.status_code == 302
    assert changed["Location"] == reverse("accounts:security")
    ana.refresh_from_db()
    assert ana.check_password(new)
    assert _signed_in_still(client)
    assert AuditEntry.objects.filter(organization=org, action="person.password").exists()


def _signed_in_still(client: Client) -> bool:
    return client.get(reverse("web:inbox")).status_code == 200


def test_allauths_spanish_catalog_is_used_where_tertulia_says_nothing(ana: User) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    page = client.get(reverse("account_reset_password")).content.decode()
    assert "Restablecer" in page  # allauth's own Spanish: Tertulia's catalog does not cover this page


def test_a_person_without_organization_signs_in_and_is_audited_without_one() -> None:
    person = make_user(email="loner@example.com")
    assert _sign_in(Client(), person.email, PASSWORD).status_code == 302
    assert AuditEntry.objects.filter(organization=None, action="signin", object_id=str(person.pk)).exists()


def test_too_many_attempts_from_one_address_get_a_translated_page(settings: Any, ana: User) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    client = Client(REMOTE_ADDR="127.0.0.7")
    for _ in range(2):
        assert _sign_in(client, ana.email, WRONG).status_code == 200
    page = _sign_in(client, ana.email, PASSWORD)
    assert page.status_code == 429
    assert 'id="throttled"' in page.content.decode()
    assert "_auth_user_id" not in client.session


ANONYMOUS_PAGES = [
    "account_reset_password",
    "account_reset_password_done",
    "account_signup",
    "account_inactive",
    "socialaccount_login_cancelled",
    "socialaccount_login_error",
]
SIGNED_IN_PAGES = [
    "account_change_password",
    "account_reauthenticate",
    "account_logout",
    "mfa_index",
    "accounts:security",
    "usersessions_list",
]


@pytest.mark.parametrize("name", ANONYMOUS_PAGES + SIGNED_IN_PAGES)
def test_allauth_pages_wear_tertulias_layout_and_keep_the_csp(name: str, ana: User) -> None:
    client = Client()
    if name in SIGNED_IN_PAGES:
        _sign_in(client, ana.email, PASSWORD)
    page = client.get(reverse(name))
    expected = 401 if name == "socialaccount_login_error" else 200
    assert page.status_code == expected, (name, page.status_code, page.get("Location"))
    body = page.content.decode()
    assert '<link rel="stylesheet" href="/static/web/tertulia.css">' in body, name
    assert ("main-nav" in body) == (name in SIGNED_IN_PAGES), name
    assert "<style" not in body and " style=" not in body, name
    for script in re.findall(r"<script[^>]*>", body):
        assert "src=" in script or 'type="application/json"' in script, (name, script)
    assert re.search(r" on[a-z]+=", body) is None, name
