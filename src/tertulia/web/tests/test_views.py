from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tertulia.core.actions import brands
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.factories import PASSWORD, make_brand, make_member, make_org, make_user
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SECTIONS = ["inbox", "publish", "listen", "crisis", "analytics", "team", "settings"]
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202e\u200b😀'


@pytest.fixture
def org():
    return make_org("Acme")


@pytest.fixture
def manager(org):
    return make_member(org, Role.BRAND_MANAGER)


@pytest.mark.parametrize("section", SECTIONS)
def test_sections_require_sign_in(client, section):
    response = client.get(reverse(f"web:{section}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_renders_for_a_member(org, manager, section):
    make_brand(org, "Café Sur")
    response = signed_in(manager).get(reverse(f"web:{section}"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>" in body
    assert 'aria-current="page"' in body
    assert "Café Sur" in body
    assert 'id="main-nav"' in body


@pytest.mark.parametrize("section", SECTIONS)
def test_a_person_without_organization_gets_a_clear_403(section):
    response = signed_in(make_user()).get(reverse(f"web:{section}"))
    assert response.status_code == 403
    assert "not a member of any organization" in response.content.decode()


def test_sign_in_with_email_and_password(org):
    user = make_member(org, email="lucia@example.com")
    client = Client()
    wrong = client.post(reverse("web:login"), {"login": user.email, "password": "nope"})
    assert wrong.status_code == 200
    assert "do not match" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    right = client.post(reverse("web:login"), {"login": "LUCIA@example.com", "password": PASSWORD})
    assert right.status_code == 302
    assert client.get(reverse("web:inbox")).status_code == 200


def test_sign_out_is_post_only(org, manager):
    client = signed_in(manager)
    assert client.get(reverse("web:logout")).status_code == 405
    client.post(reverse("web:logout"))
    assert client.get(reverse("web:inbox")).status_code == 302


def test_forms_need_a_csrf_token(org, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(reverse("web:switch-language"), {"language": "es"})
    assert response.status_code == 403


def test_brand_profile_edit_is_audited_with_where_from(org, manager):
    brand = make_brand(org)
    response = signed_in(manager).post(
        reverse("web:settings"),
        {
            "name": "Nuevo",
            "language": "es",
            "timezone": "Europe/Madrid",
            "voice_guide": HOSTILE,
            "audience": "",
            "reach_threshold": 2000,
        },
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="pytest-browser",
    )
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.voice_guide == HOSTILE
    entry = AuditEntry.objects.filter(action="brand.update").latest("id")
    assert entry.actor == manager
    assert entry.via == "web"
    assert entry.ip_address == "10.1.2.3"
    assert entry.user_agent == "pytest-browser"


def test_bad_brand_profile_input_is_refused_without_changes(org, manager):
    brand = make_brand(org, "Keep")
    response = signed_in(manager).post(
        reverse("web:settings"),
        {"name": "", "language": "xx", "timezone": "Mars/Olympus", "reach_threshold": "-5"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "is not a known time zone" in body
    brand.refresh_from_db()
    assert brand.name == "Keep"


def test_roles_without_the_permission_cannot_edit_the_brand(org):
    make_brand(org, "Keep")
    analyst = make_member(org, Role.ANALYST)
    client = signed_in(analyst)
    page = client.get(reverse("web:settings")).content.decode()
    assert "disabled" in page
    response = client.post(reverse("web:settings"), {"name": "Changed"})
    assert response.status_code == 403


def test_hostile_content_is_rendered_escaped(org, manager):
    brand = make_brand(org)
    brands.update_brand(Actor.system(), brand, name=HOSTILE[:100])
    brands.add_competitor(Actor.system(), brand, name=HOSTILE[:100], notes=HOSTILE)
    for section in ("listen", "settings", "publish"):
        body = signed_in(manager).get(reverse(f"web:{section}")).content.decode()
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;" in body


def test_pages_carry_a_strict_content_security_policy(org, manager):
    response = signed_in(manager).get(reverse("web:team"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_switching_brand_and_organization_stays_within_memberships(org, manager):
    mine = make_brand(org, "Mine")
    other_org = make_org("Other")
    theirs = make_brand(other_org, "Theirs")
    client = signed_in(manager)
    assert client.post(reverse("web:switch-brand"), {"brand": theirs.pk}).status_code == 400
    assert client.post(reverse("web:switch-organization"), {"organization": other_org.pk}).status_code == 400
    assert client.post(reverse("web:switch-brand"), {"brand": "1 OR 1=1"}).status_code == 400
    second = make_brand(org, "Second")
    assert (
        client.post(
            reverse("web:switch-brand"), {"brand": second.pk, "next": "https://evil.example/"}
        ).status_code
        == 302
    )
    body = client.get(reverse("web:settings")).content.decode()
    assert 'value="Second"' in body
    assert mine.name in body  # still listed in the switcher
    assert "Theirs" not in body


def test_switch_redirect_never_leaves_the_site(org, manager):
    make_brand(org)
    response = signed_in(manager).post(
        reverse("web:switch-language"), {"language": "en", "next": "https://evil.example/phish"}
    )
    assert response["Location"] == "/"


def test_language_switch_is_remembered_per_person(org, manager):
    make_brand(org)
    client = signed_in(manager)
    assert client.post(reverse("web:switch-language"), {"language": "xx"}).status_code == 400
    client.post(reverse("web:switch-language"), {"language": "es"})
    manager.refresh_from_db()
    assert manager.language == "es"
    body = signed_in(manager).get(reverse("web:inbox")).content.decode()
    assert '<html lang="es">' in body
    assert "Bandeja de entrada" in body
    assert "Ajustes" in body


def test_unknown_pages_are_404_in_html_and_json(org, manager):
    client = signed_in(manager)
    assert client.get("/nowhere/").status_code == 404
    response = client.get("/nowhere/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_health_check_is_public_and_tiny(client):
    response = client.get(reverse("web:healthz"))
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999999", "-1", "0", ""])
def test_switchers_refuse_odd_ids_with_400_not_500(org, manager, value):
    make_brand(org)
    client = signed_in(manager)
    assert client.post(reverse("web:switch-organization"), {"organization": value}).status_code == 400
    assert client.post(reverse("web:switch-brand"), {"brand": value}).status_code == 400


def test_live_refreshes_never_read_the_network(org, manager, monkeypatch):
    from tertulia.core.actions.channels import connect_channel
    from tertulia.core.models import ChannelOperator

    brand = make_brand(org)
    channel = connect_channel(Actor.system(), brand, "sandbox", "shared_reads")
    ChannelOperator.objects.create(channel=channel, user=manager)
    calls = []
    import tertulia.connectors.sandbox.connector as sandbox

    original = sandbox.SandboxConnector.fetch_inbound

    def counting(self, cursor=None, limit=100):
        calls.append(cursor)
        return original(self, cursor, limit)

    monkeypatch.setattr(sandbox.SandboxConnector, "fetch_inbound", counting)
    client = signed_in(manager)
    for _ in range(5):
        assert client.get(reverse("web:inbox-list")).status_code == 200
    assert calls == []  # the list shows what the poller stored; page views spend no network budget
