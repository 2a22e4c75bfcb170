"""Signed-in sessions: the list, signing one out, everywhere else, and everywhere (offboarding)."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tertulia.accounts.sessions import describe_browser, end_all_sessions
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Organization, User
from tertulia.core.tests.factories import PASSWORD, make_member, make_org

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def org() -> Organization:
    return make_org("Acme")


@pytest.fixture
def ana(org: Organization) -> User:
    return make_member(org, email="ana@acme.test")


def _browser(user: User, agent: str, remember: bool = False, ip: str = "127.0.0.1") -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    data = {"login": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "on"
    assert client.post(reverse("web:login"), data).status_code == 302
    return client


def _signed_in(client: Client) -> bool:
    return client.get(reverse("web:inbox")).status_code == 200


def test_browsers_are_described_shortly() -> None:
    assert describe_browser(FIREFOX) == "Firefox · Linux"
    assert describe_browser(PHONE) == "Safari · iOS"
    assert describe_browser("") == "—"
    assert describe_browser("x" * 500) == "x" * 80


def test_the_list_shows_every_browser_and_marks_this_one(ana: User) -> None:
    laptop = _browser(ana, FIREFOX)
    _browser(ana, PHONE, ip="127.0.0.2")
    page = laptop.get(reverse("usersessions_list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Firefox · Linux" in body and "Safari · iOS" in body
    assert "127.0.0.2" in body
    assert body.count("This browser") == 1


def test_sign_out_one_session_from_another(ana: User, org: Organization) -> None:
    laptop = _browser(ana, FIREFOX)
    phone = _browser(ana, PHONE)
    phone_row = UserSession.objects.get(user=ana, user_agent=PHONE)
    response = laptop.post(reverse("accounts:session-end", args=[phone_row.pk]))
    assert response.status_code == 302
    assert not _signed_in(phone)
    assert _signed_in(laptop)
    entry = AuditEntry.objects.get(organization=org, action="person.session_end")
    assert entry.changes["session"][0].startswith("Safari · iOS")


def test_sign_out_everywhere_else_keeps_this_browser(ana: User, org: Organization) -> None:
    laptop = _browser(ana, FIREFOX)
    phone = _browser(ana, PHONE)
    tablet = _browser(ana, PHONE, remember=True)
    assert laptop.post(reverse("accounts:sessions-end-others")).status_code == 302
    assert _signed_in(laptop)
    assert not _signed_in(phone) and not _signed_in(tablet)
    entry = AuditEntry.objects.get(organization=org, action="person.sessions_end_others")
    assert entry.changes == {"sessions": [2, 0]}


def test_nobody_ends_someone_elses_session(ana: User, org: Organization) -> None:
    bea = make_member(org)
    bea_browser = _browser(bea, FIREFOX)
    ana_browser = _browser(ana, PHONE)
    theirs = UserSession.objects.get(user=bea)
    assert ana_browser.post(reverse("accounts:session-end", args=[theirs.pk])).status_code == 404
    assert _signed_in(bea_browser)
    assert ana_browser.get(reverse("accounts:session-end", args=[theirs.pk])).status_code == 405


def test_end_all_sessions_signs_the_person_out_everywhere(ana: User, org: Organization) -> None:
    remembered = _browser(ana, FIREFOX, remember=True)
    other = _browser(ana, PHONE)
    # A session made outside allauth's sign-in, never used since: no UserSession row for it.
    untracked = Client()
    untracked.force_login(ana)
    assert not UserSession.objects.filter(session_key=untracked.session.session_key).exists()
    bystander = _browser(make_member(org), FIREFOX)
    admin = make_member(org)
    ended = end_all_sessions(Actor(user=admin, via="web"), ana)
    assert ended == 3
    for client in (remembered, other, untracked):
        assert not _signed_in(client)
    assert _signed_in(bystander)
    assert not UserSession.objects.filter(user=ana).exists()
    entry = AuditEntry.objects.get(organization=org, action="person.sessions_ended")
    assert entry.changes == {"sessions": [3, 0]}
    assert entry.actor == admin
    # Nothing left: still audited, zero ended.
    assert end_all_sessions(Actor.system("offboarding"), ana) == 0
    assert AuditEntry.objects.filter(action="person.sessions_ended").count() == 2
    assert not any(
        Session.objects.filter(session_key=key).exists()
        for key in [remembered.session.session_key, other.session.session_key]
    )


def test_signing_out_is_audited(ana: User, org: Organization) -> None:
    client = _browser(ana, FIREFOX)
    client.post(reverse("web:logout"))
    assert AuditEntry.objects.filter(organization=org, action="signout", object_id=str(ana.pk)).exists()
