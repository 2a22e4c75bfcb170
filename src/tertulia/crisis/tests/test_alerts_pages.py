"""The alert pages and API: the list (open first), the alert page with its explanation escaped, who
was told, acknowledge and resolve, raising by hand, the chain editor; scopes, roles and tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tertulia.api.actions import create_token
from tertulia.api.scopes import allowed_scopes
from tertulia.api.tests.conftest import Api
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Organization, User
from tertulia.core.permissions import membership, permissions_of
from tertulia.crisis import alerts, escalation
from tertulia.crisis.models import Alert, AlertState, EscalationStep
from tertulia.crisis.tests.alerts_support import HOSTILE, Team, actor, chain, make_surge, team

__all__ = ["team"]


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token(user: User, org: Organization, scopes: list[str] | None = None) -> str:
    if scopes is None:
        member = membership(user, org)
        scopes = allowed_scopes(permissions_of(member))
    return create_token(Actor.system("tests"), user, org, "t", scopes)[1]


def hostile_alert(team: Team) -> Alert:
    surge = make_surge(
        team.brand,
        explanation={
            "top_terms": [HOSTILE],
            "authors": [{"handle": HOSTILE, "followers": 5}],
            "examples": [{"text": HOSTILE, "author": HOSTILE}],
        },
    )
    alert = alerts.raise_for_surge(surge)
    escalation.escalate_due(timezone.now() + timedelta(seconds=1))
    return alert


def test_the_alert_page_explains_escaped_and_shows_who_was_told(team: Team) -> None:
    chain(team, (team.oncall, 0, True))
    alert = hostile_alert(team)
    page = browser(team.oncall).get(f"/crisis/alerts/{alert.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "5.2 times" in html and "alert-notices" in html and "Ana Guardia" in html
    assert 'id="acknowledge-button"' in html
    listing = browser(team.oncall).get("/crisis/alerts/").content.decode()
    assert f"/crisis/alerts/{alert.pk}/" in listing and "<script>alert" not in listing


def test_a_hand_raised_alert_with_hostile_text(team: Team) -> None:
    client = browser(team.oncall)
    response = client.post(
        "/crisis/alerts/raise/",
        {"brand": team.brand.pk, "title": HOSTILE, "summary": HOSTILE + "\n" + HOSTILE},
    )
    alert = Alert.objects.get()
    assert response.status_code == 302 and alert.title == HOSTILE.strip()
    html = client.get(f"/crisis/alerts/{alert.pk}/").content.decode()
    assert "<script>alert" not in html
    # Empty title: refused with a message, nothing stored.
    client.post("/crisis/alerts/raise/", {"brand": team.brand.pk, "title": "  "})
    assert Alert.objects.count() == 1
    # Another brand the person does not work in: 404.
    assert (
        browser(team.elsewhere)
        .post("/crisis/alerts/raise/", {"brand": team.brand.pk, "title": "x"})
        .status_code
        == 404
    )


def test_open_alerts_come_first(team: Team) -> None:
    old = alerts.raise_alert(actor(team.oncall), team.brand, "Old one", "")
    alerts.resolve(actor(team.oncall), old)
    new = alerts.raise_alert(actor(team.oncall), team.brand, "Acknowledged one", "")
    alerts.acknowledge(actor(team.oncall), new)
    waiting = alerts.raise_alert(actor(team.oncall), team.brand, "Waiting one", "")
    Alert.objects.filter(pk=waiting.pk).update(raised_at=timezone.now() - timedelta(days=2))
    html = browser(team.oncall).get("/crisis/alerts/").content.decode()
    assert html.index("Waiting one") < html.index("Acknowledged one") < html.index("Old one")


def test_acknowledge_and_resolve_from_the_page(team: Team) -> None:
    alert = alerts.raise_alert(actor(team.oncall), team.brand, "Help", "")
    client = browser(team.lead)
    assert client.get(f"/crisis/alerts/{alert.pk}/acknowledge/").status_code == 405
    client.post(f"/crisis/alerts/{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == team.lead
    client.post(f"/crisis/alerts/{alert.pk}/resolve/")
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED


def test_other_brands_and_organizations_get_404(team: Team) -> None:
    alert = alerts.raise_alert(actor(team.oncall), team.brand, "Help", "")
    for outsider in (team.elsewhere, team.rival):
        client = browser(outsider)
        assert client.get(f"/crisis/alerts/{alert.pk}/").status_code in (403, 404)
        assert client.post(f"/crisis/alerts/{alert.pk}/acknowledge/").status_code in (403, 404)
        assert client.post(f"/crisis/alerts/{alert.pk}/resolve/").status_code in (403, 404)
        assert client.get(f"/crisis/escalation/{team.brand.pk}/").status_code in (403, 404)
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN
    assert browser(team.elsewhere).get(f"/crisis/alerts/{alert.pk}/").status_code == 404


def test_the_chain_editor(team: Team) -> None:
    manager = browser(team.manager)
    page = manager.get(f"/crisis/escalation/{team.brand.pk}/")
    assert page.status_code == 200 and b"Ana Guardia" in page.content and b"Carla Otra" not in page.content
    saved = manager.post(
        f"/crisis/escalation/{team.brand.pk}/",
        {"user_0": team.oncall.pk, "wait_0": "0", "email_0": "on", "user_1": team.lead.pk, "wait_1": "7"},
    )
    assert saved.status_code == 302
    steps = list(
        EscalationStep.objects.filter(brand=team.brand).values_list("user_id", "wait_minutes", "by_email")
    )
    assert steps == [(team.oncall.pk, 0, True), (team.lead.pk, 7, False)]
    assert AuditEntry.objects.filter(action="crisis.escalation.changed").exists()
    # Someone who does not work in the brand: refused, nothing changed.
    refused = manager.post(
        f"/crisis/escalation/{team.brand.pk}/", {"user_0": team.elsewhere.pk, "wait_0": "0"}
    )
    assert refused.status_code == 400
    assert EscalationStep.objects.filter(brand=team.brand).count() == 2
    bad = manager.post(f"/crisis/escalation/{team.brand.pk}/", {"user_0": "x", "wait_0": "-3"})
    assert bad.status_code == 400
    # A community manager sees the chain but may not change it.
    cm = browser(team.oncall)
    assert cm.get(f"/crisis/escalation/{team.brand.pk}/").status_code == 200
    assert cm.post(f"/crisis/escalation/{team.brand.pk}/", {"user_0": team.oncall.pk}).status_code == 403
    assert EscalationStep.objects.filter(brand=team.brand).count() == 2


@pytest.fixture
def api() -> Api:
    return Api()


def test_the_api(api: Api, team: Team) -> None:
    chain(team, (team.oncall, 0, False))
    alert = hostile_alert(team)
    reader = token(team.oncall, team.org)
    listed = api.get("/crisis/alerts", reader)
    assert listed.status == 200 and [a["id"] for a in listed.body["items"]] == [alert.pk]
    one = api.get(f"/crisis/alerts/{alert.pk}", reader).body
    assert one["explanation"]["top_terms"] == [" ".join(HOSTILE.split())]
    assert one["surge"]["ratio"] == 5.2 and one["notices"][0]["medium"] == "app"
    # Scopes: read-only tokens cannot acknowledge.
    read_only = token(team.oncall, team.org, ["crisis:read"])
    assert api.post(f"/crisis/alerts/{alert.pk}/acknowledge", read_only).status == 403
    done = api.post(f"/crisis/alerts/{alert.pk}/acknowledge", reader)
    assert done.status == 200 and done.body["state"] == "acknowledged"
    assert api.post(f"/crisis/alerts/{alert.pk}/acknowledge", reader).status == 409
    assert api.post(f"/crisis/alerts/{alert.pk}/resolve", reader).body["state"] == "resolved"
    raised = api.post(
        "/crisis/alerts", reader, {"brand_id": team.brand.pk, "title": "By hand", "summary": ""}
    )
    assert raised.status == 201 and raised.body["title"] == "By hand"
    assert api.post("/crisis/alerts", reader, {"brand_id": team.brand.pk, "title": ""}).status == 422
    # Tenancy: another brand's member and another organization see nothing.
    elsewhere = token(team.elsewhere, team.org)
    assert api.get(f"/crisis/alerts/{alert.pk}", elsewhere).status == 404
    assert api.get("/crisis/alerts", elsewhere).body["items"] == []
    assert api.post("/crisis/alerts", elsewhere, {"brand_id": team.brand.pk, "title": "x"}).status == 404
    rival = token(team.rival, team.rival_org)
    assert api.get(f"/crisis/alerts/{alert.pk}", rival).status == 404
    assert api.get(f"/brands/{team.brand.pk}/escalation", rival).status == 404


def test_the_chain_api(api: Api, team: Team) -> None:
    manager = token(team.manager, team.org)
    got = api.get(f"/brands/{team.brand.pk}/escalation", manager).body
    assert got["steps"] == [] and team.owner.pk in got["fallback_user_ids"] and got["renotify_minutes"] == 15
    put = api.put(
        f"/brands/{team.brand.pk}/escalation",
        manager,
        {
            "steps": [
                {"user_id": team.oncall.pk, "wait_minutes": 0},
                {"user_id": team.lead.pk, "wait_minutes": 5},
            ]
        },
    )
    assert put.status == 200 and [s["user_id"] for s in put.body["steps"]] == [team.oncall.pk, team.lead.pk]
    outsider = api.put(
        f"/brands/{team.brand.pk}/escalation", manager, {"steps": [{"user_id": team.elsewhere.pk}]}
    )
    assert outsider.status == 422
    cm = token(team.oncall, team.org)
    assert api.put(f"/brands/{team.brand.pk}/escalation", cm, {"steps": []}).status == 403
    assert EscalationStep.objects.filter(brand=team.brand).count() == 2
