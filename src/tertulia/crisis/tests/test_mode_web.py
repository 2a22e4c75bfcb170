"""Crisis mode's pages: the switch, the room, the banner, and Settings, Publishing's button."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from tertulia.core.models import Membership, Role
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.crisis import mode
from tertulia.crisis.models import (
    Alert,
    AlertState,
    ChecklistItem,
    Crisis,
    CrisisRole,
    CrisisState,
    TimelineEntry,
)
from tertulia.publishing.models import Pause
from tertulia.web.tenant import SESSION_BRAND

from .mode_support import HOSTILE, Team, make_playbook, team, web

__all__ = ["team"]

HX = {"HX-Request": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_starting_from_the_page_opens_the_room(team: Team):
    make_playbook(team.brand)
    alert = Alert.objects.create(
        organization=team.org, brand=team.brand, title="Pico <b>raro</b>", raised_at=timezone.now()
    )
    client = _client(team.manager)
    page = client.get(f"/crisis/mode/start/?alert={alert.pk}").content.decode()
    assert "Pico &lt;b&gt;raro&lt;/b&gt;" in page and "<b>raro</b>" not in page
    response = client.post(
        "/crisis/mode/start/",
        {"title": HOSTILE, "scope": str(team.brand.pk), "playbook": "", "alert": alert.pk},
    )
    crisis = Crisis.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crisis/rooms/{crisis.pk}/"
    alert.refresh_from_db()
    assert crisis.alert == alert and alert.state == AlertState.ACKNOWLEDGED
    room = client.get(f"/crisis/rooms/{crisis.pk}/").content.decode()
    assert "<script>alert" not in room and "&lt;script&gt;" in room
    assert "Reúne al equipo" in room and 'id="crisis-metrics"' in room and 'id="crisis-end-form"' in room
    # The banner, on any page of the brand.
    inbox = client.get("/inbox/").content.decode()
    assert 'class="warning-banner crisis-banner"' in inbox and f"/crisis/rooms/{crisis.pk}/" in inbox
    assert client.get("/crisis/rooms/").status_code == 200
    assert client.get(f"/crisis/rooms/{crisis.pk}/live/").status_code == 200


def test_the_whole_organization_from_the_page(team: Team):
    client = _client(team.owner)
    client.post("/crisis/mode/start/", {"title": "Todo", "scope": "all"})
    crisis = Crisis.objects.get()
    assert crisis.brand is None and Pause.objects.get().brand is None
    limited = _client(team.limited)
    assert limited.post("/crisis/mode/start/", {"title": "Todo", "scope": "all"}).status_code == 400


def test_the_checklist_notes_and_roles_through_htmx(team: Team):
    make_playbook(team.brand)
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    item = ChecklistItem.objects.filter(crisis=crisis)[0]
    cm = _client(team.cm)
    response = cm.post(f"/crisis/rooms/{crisis.pk}/checklist/{item.pk}/", {"done": "on"}, headers=HX)
    assert response.status_code == 200 and "Done by" in response.content.decode()
    item.refresh_from_db()
    assert item.done_by == team.cm and item.done_at is not None
    response = cm.post(f"/crisis/rooms/{crisis.pk}/notes/", {"text": HOSTILE}, headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and "&lt;img src=x" in body and "<img src=x" not in body
    assert cm.post(f"/crisis/rooms/{crisis.pk}/notes/", {"text": " "}, headers=HX).status_code == 400
    # Roles: not for a community manager; the manager gives them.
    refused = cm.post(
        f"/crisis/rooms/{crisis.pk}/roles/",
        {"user": team.colleague.pk, "role": "responder", "action": "add"},
        headers=HX,
    )
    assert refused.status_code == 400 and not CrisisRole.objects.filter(user=team.colleague).exists()
    manager = _client(team.manager)
    given = manager.post(
        f"/crisis/rooms/{crisis.pk}/roles/",
        {"user": team.colleague.pk, "role": "responder", "action": "add"},
        headers=HX,
    )
    assert (
        given.status_code == 200 and CrisisRole.objects.filter(user=team.colleague, role="responder").exists()
    )
    # A contributor sees the room but cannot tick.
    contributor = _client(team.contributor)
    assert contributor.get(f"/crisis/rooms/{crisis.pk}/").status_code == 200
    assert contributor.post(f"/crisis/rooms/{crisis.pk}/notes/", {"text": "x"}, headers=HX).status_code == 400


def test_ending_from_the_room(team: Team):
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    assert (
        _client(team.cm).post(f"/crisis/rooms/{crisis.pk}/end/", {"publishing": "resume"}).status_code == 403
    )
    client = _client(team.manager)
    client.post(f"/crisis/rooms/{crisis.pk}/end/", {"publishing": "keep"})
    crisis.refresh_from_db()
    assert crisis.state == CrisisState.CLOSED
    pause = Pause.objects.get()
    assert pause.ended_at is None and not pause.is_crisis
    assert 'class="warning-banner crisis-banner"' not in client.get("/inbox/").content.decode()


def test_other_brands_and_organizations_see_nothing(team: Team):
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Secreto interno")
    limited = _client(team.limited)
    for url in (f"/crisis/rooms/{crisis.pk}/", f"/crisis/rooms/{crisis.pk}/live/"):
        assert limited.get(url).status_code == 404
    assert "Secreto interno" not in limited.get("/crisis/rooms/").content.decode()
    outsider_org = make_org("Fuera SA")
    outsider = Membership.objects.get(organization=outsider_org, role=Role.OWNER).user
    make_brand(outsider_org, "Fuera")
    client = _client(outsider)
    assert client.get(f"/crisis/rooms/{crisis.pk}/").status_code == 404
    assert client.post(f"/crisis/rooms/{crisis.pk}/end/", {"publishing": "resume"}).status_code == 404
    assert client.post(f"/crisis/rooms/{crisis.pk}/notes/", {"text": "hola"}).status_code == 404
    assert not TimelineEntry.objects.filter(crisis=crisis, text="hola").exists()
    assert _client(team.cm).get("/crisis/mode/start/").status_code == 403


def test_the_publishing_settings_button_is_the_same_switch(team: Team):
    client = _client(team.manager)
    session = client.session
    session[SESSION_BRAND] = team.brand.pk
    session.save()
    response = client.post(
        "/settings/publishing/pause/",
        {"scope": "brand", "reason": "Incendio", "crisis": "on", "return_to": "settings"},
    )
    crisis = Crisis.objects.get(state=CrisisState.ACTIVE)
    assert response.status_code == 302 and response["Location"] == f"/crisis/rooms/{crisis.pk}/"
    assert crisis.title == "Incendio" and Pause.objects.get(pk=crisis.pause_id or 0).is_crisis
    # Resuming that pause ends the crisis: one switch, not two.
    client.post(
        f"/settings/publishing/pauses/{crisis.pause_id}/resume/", {"confirm": "on", "return_to": "settings"}
    )
    crisis.refresh_from_db()
    assert (
        crisis.state == CrisisState.CLOSED and Pause.objects.get(pk=crisis.pause_id or 0).ended_at is not None
    )


def test_held_replies_are_decided_in_the_room(team: Team):
    from tertulia.connectors.sandbox.models import SandboxPost
    from tertulia.guard.models import GuardHold, HoldState
    from tertulia.inbox import delivery
    from tertulia.inbox.actions import replies
    from tertulia.inbox.models import Delivery

    from .mode_support import mention

    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    message = replies.send_reply(web(team.cm), mention(team.channel), "Estamos en ello <b>ya</b>")
    hold = GuardHold.objects.get(message=message)
    url = f"/crisis/rooms/{crisis.pk}/replies/{hold.pk}/"
    room = _client(team.manager).get(f"/crisis/rooms/{crisis.pk}/").content.decode()
    assert 'id="crisis-held-replies"' in room and "Estamos en ello &lt;b&gt;ya&lt;/b&gt;" in room
    assert url in room
    # Not a crisis approver: refused, still held; the author cannot release their own.
    for user in (team.colleague, team.cm):
        _client(user).post(url, {"decision": "release"})
        hold.refresh_from_db()
        assert hold.state == HoldState.PENDING
    assert _client(team.contributor).post(url, {"decision": "release"}).status_code == 403
    _client(team.manager).post(url, {"decision": "release"})
    hold.refresh_from_db()
    assert hold.state == HoldState.RELEASED and hold.decided_by == team.manager
    assert delivery.deliver(message.pk) == Delivery.SENT
    assert SandboxPost.objects.filter(text__contains="Estamos en ello").count() == 1
    elsewhere = make_org("Otra SA")
    stranger = Membership.objects.get(organization=elsewhere, role=Role.OWNER).user
    assert _client(stranger).post(url, {"decision": "reject"}).status_code == 404
