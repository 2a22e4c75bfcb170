"""The guard's API: holds, the compromised-account endpoint, incidents, settings; scopes, roles and
tenant boundaries."""

from __future__ import annotations

import pytest

from tertulia.api.actions import create_token
from tertulia.api.scopes import ALL_SCOPES, allowed_scopes
from tertulia.api.tests.conftest import Api
from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Role, User
from tertulia.core.permissions import membership, permissions_of
from tertulia.core.tests.factories import make_org
from tertulia.guard.models import GuardHold, HoldState, Incident
from tertulia.publishing.actions.scheduling import schedule
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.models import ChannelPause, PostState

from .conftest import SCAM, PostMaker, Team, actor

SYSTEM = Actor.system("tests")


def token(user: User, team_org: object, scopes: list[str] | None = None) -> str:
    org = team_org
    if scopes is None:
        scopes = allowed_scopes(permissions_of(membership(user, org)))  # type: ignore[arg-type]  # a test passes a deliberately loose value
    return create_token(SYSTEM, user, org, "t", scopes)[1]  # type: ignore[arg-type]  # a test passes a deliberately loose value


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def held(team: Team, make_post: PostMaker) -> GuardHold:
    post = make_post(SCAM)
    schedule(actor(team.author), post)
    return GuardHold.objects.get(post=post)


def test_holds_are_listed_released_once_and_never_by_their_sender(api: Api, team: Team, held: GuardHold):
    colleague = token(team.colleague, team.org)
    listed = api.get("/guard/holds?state=pending", colleague)
    assert listed.status == 200 and [h["id"] for h in listed.body["items"]] == [held.pk]
    item = listed.body["items"][0]
    assert item["kind"] == "post" and item["channel_ids"] == [team.channel.pk]
    assert {r["code"] for r in item["reasons"]} >= {"scam_vocabulary"} and item["reasons"][0]["text"]
    assert api.get(f"/guard/holds/{held.pk}", colleague).body["text"] == SCAM

    author = token(team.author, team.org)
    refused = api.post(f"/guard/holds/{held.pk}/release", author, {})
    assert refused.status == 403 and refused.body["code"] == "permission_denied"
    released = api.post(f"/guard/holds/{held.pk}/release", colleague, {"note": "<script>ok</script>"})
    assert released.status == 200 and released.body["state"] == "released"
    assert released.body["decision_note"] == "<script>ok</script>"
    again = api.post(f"/guard/holds/{held.pk}/release", colleague, {})
    assert again.status == 409
    assert run_once("w") == 1


def test_the_sender_withdraws_through_the_api(api: Api, team: Team, held: GuardHold):
    done = api.post(f"/guard/holds/{held.pk}/reject", token(team.author, team.org), {})
    assert done.status == 200 and done.body["state"] == HoldState.WITHDRAWN


def test_holds_are_invisible_to_other_organizations_and_to_people_off_the_channel(
    api: Api, team: Team, held: GuardHold
):
    other = make_org("Rival SA")
    rival = Membership.objects.get(organization=other, role=Role.OWNER).user
    rival_token = token(rival, other, list(ALL_SCOPES))
    assert api.get(f"/guard/holds/{held.pk}", rival_token).status == 404
    assert api.post(f"/guard/holds/{held.pk}/release", rival_token, {}).status == 404
    assert api.get("/guard/holds", rival_token).body["count"] == 0
    outsider = token(team.outsider, team.org)
    assert api.get(f"/guard/holds/{held.pk}", outsider).status == 404
    assert api.post(f"/guard/holds/{held.pk}/release", outsider, {}).status == 404
    contributor = token(team.contributor, team.org)
    assert api.post(f"/guard/holds/{held.pk}/release", contributor, {}).status == 403  # no guard:write scope
    assert GuardHold.objects.get(pk=held.pk).state == HoldState.PENDING


def test_the_compromised_endpoint_and_the_incident(api: Api, team: Team, make_post: PostMaker):
    owner = token(team.owner, team.org)
    cm = token(team.author, team.org)
    assert api.post(f"/channels/{team.channel.pk}/compromised", cm, {}).status == 403  # no channels:write
    reported = api.post(f"/channels/{team.channel.pk}/compromised", owner, {"report": "\u202e<b>hacked</b>"})
    assert reported.status == 201, reported
    incident = reported.body
    assert incident["state"] == "open" and incident["report"] == "\u202e<b>hacked</b>"
    assert incident["steps"][0]["key"] == "contact_network" and incident["events"]
    assert ChannelPause.objects.filter(channel=team.channel, ended_at__isnull=True).exists()
    assert api.post(f"/channels/{team.channel.pk}/compromised", owner, {}).status == 200  # the same one

    path = f"/guard/incidents/{incident['id']}"
    ticked = api.post(f"{path}/steps/contact_network", cm, {"done": True, "note": "ticket 42"})
    assert ticked.status == 200 and ticked.body["steps"][0]["done"] is True
    assert api.post(f"{path}/steps/nope", cm, {"done": True}).status == 404
    assert api.post(f"{path}/steps/resume", cm, {"done": True}).status == 422
    assert api.post(f"{path}/notes", cm, {"text": "Llamada hecha"}).status == 201
    assert api.post(f"{path}/close", owner, {"summary": "ok", "publishing": "resume"}).status == 422
    assert api.post(f"{path}/reconnected", owner).status == 200
    bad = api.post(f"{path}/close", owner, {"summary": "ok", "publishing": "maybe"})
    assert bad.status == 422
    closed = api.post(f"{path}/close", owner, {"summary": "Recuperada", "publishing": "resume"})
    assert closed.status == 200 and closed.body["state"] == "closed" and closed.body["resumed"] is True
    listed = api.get("/guard/incidents", owner)
    assert listed.status == 200 and listed.body["items"][0]["id"] == incident["id"]


def test_incidents_do_not_cross_organizations(api: Api, team: Team):
    other = make_org("Rival SA")
    rival = Membership.objects.get(organization=other, role=Role.OWNER).user
    rival_token = token(rival, other, list(ALL_SCOPES))
    assert api.post(f"/channels/{team.channel.pk}/compromised", rival_token, {}).status == 404
    assert not Incident.objects.exists()
    from tertulia.guard.actions.incidents import report_compromised

    incident = report_compromised(actor(team.owner), team.channel)
    assert api.get(f"/guard/incidents/{incident.pk}", rival_token).status == 404
    assert (
        api.post(
            f"/guard/incidents/{incident.pk}/close", rival_token, {"summary": "x", "publishing": "resume"}
        ).status
        == 404
    )
    assert api.get(f"/guard/incidents/{incident.pk}", token(team.contributor, team.org)).status == 404


def test_settings_through_the_api(api: Api, team: Team, make_post: PostMaker):
    owner = token(team.owner, team.org)
    assert api.get("/guard/settings", owner).body["threshold"] == 50
    changed = api.patch(
        "/guard/settings", owner, {"sensitivity": "high", "trusted_domains": ["https://www.Example.org/x"]}
    )
    assert changed.status == 200 and changed.body["threshold"] == 35
    assert changed.body["trusted_domains"] == ["example.org"]
    assert api.patch("/guard/settings", owner, {"trusted_domains": ["not a domain"]}).status == 422
    assert api.patch("/guard/settings", owner, {"enabled": None}).status == 422
    assert api.patch("/guard/settings", owner, {"unknown": True}).status == 422
    assert api.get("/guard/settings", token(team.author, team.org)).status == 403
    post = make_post(SCAM)
    api.patch("/guard/settings", owner, {"enabled": False})
    schedule(actor(team.author), post)
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
