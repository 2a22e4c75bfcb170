"""Governance over the REST API: the same actions as the web, with scopes capped by the role, and
nothing of another organization reachable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tertulia.api.actions import create_token
from tertulia.api.scopes import ALL_SCOPES, allowed_scopes
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Membership, Role
from tertulia.core.permissions import membership, permissions_of
from tertulia.core.tests.factories import make_member, make_org
from tertulia.governance.models import Invitation
from tertulia.governance.tests.conftest import StartSmtp, Team

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def call(method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    response = Client().generic(
        method,
        f"/api/v1{path}",
        data=json.dumps(body) if body is not None else b"",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response["Content-Type"].startswith("application/json") or response.status_code == 204
    return response.status_code, (response.json() if response.content else None)


def token_for(user, org, scopes=None) -> str:
    scopes = scopes if scopes is not None else allowed_scopes(permissions_of(membership(user, org)))
    return create_token(SYSTEM, user, org, "t", scopes)[1]


def test_invitations_over_the_api(team: Team, smtp_server: StartSmtp) -> None:
    server = smtp_server()
    token = token_for(team.admin, team.org)
    status, body = call(
        "POST",
        "/invitations",
        token,
        {"email": "api@example.com", "role": "analyst", "brand_ids": [team.brand.pk], "all_brands": False},
    )
    assert status == 201, body
    assert (
        body["email"] == "api@example.com"
        and body["brand_ids"] == [team.brand.pk]
        and body["state"] == "pending"
    )
    assert "token" not in json.dumps(body) and "digest" not in json.dumps(body)
    assert len(server.messages) == 1
    status, listed = call("GET", "/invitations", token)
    assert status == 200 and [i["id"] for i in listed["items"]] == [body["id"]]
    status, again = call("POST", f"/invitations/{body['id']}/resend", token)
    assert status == 200 and again["sent_count"] == 2 and len(server.messages) == 2
    status, _ = call("DELETE", f"/invitations/{body['id']}", token)
    assert status == 204
    assert call("GET", "/invitations", token)[1]["count"] == 0
    assert call("GET", "/invitations?include_closed=true", token)[1]["items"][0]["state"] == "revoked"
    status, refused = call("POST", f"/invitations/{body['id']}/resend", token)
    assert status == 409
    status, refused = call("POST", "/invitations", token, {"email": "<b>@x", "role": "analyst"})
    assert status == 422 and refused["code"] == "invitation_refused"
    status, refused = call(
        "POST", "/invitations", token, {"email": "x@example.com", "role": "analyst", "oops": 1}
    )
    assert status == 422


def test_scopes_and_roles_cap_what_a_token_does(team: Team, smtp_server: StartSmtp) -> None:
    smtp_server()
    analyst = make_member(team.org, Role.ANALYST)
    weak = token_for(analyst, team.org)
    assert call("POST", "/invitations", weak, {"email": "x@example.com", "role": "analyst"})[0] == 403
    assert call("GET", "/access-review", weak)[0] == 403
    assert call("GET", "/coverage", weak)[0] == 403
    member = Membership.objects.get(user=analyst)
    assert call("POST", f"/members/{member.pk}/offboard", weak, {})[0] == 403
    read_only = token_for(team.admin, team.org, ["members:read", "audit:read"])
    assert call("POST", "/invitations", read_only, {"email": "x@example.com", "role": "analyst"})[0] == 403
    assert call("GET", "/access-review", read_only)[0] == 200
    assert not Invitation.objects.exists()


def test_offboarding_over_the_api(team: Team) -> None:
    leaver = make_member(team.org, Role.COMMUNITY_MANAGER, email="sale@example.com")
    colleague = make_member(team.org, Role.COMMUNITY_MANAGER)
    channel = connect_channel(SYSTEM, team.brand, "sandbox", "api_canal", "Canal")
    set_channel_operators(SYSTEM, channel, [leaver, colleague])
    leaver_token = token_for(leaver, team.org)
    member = Membership.objects.get(user=leaver)
    token = token_for(team.admin, team.org, ALL_SCOPES)
    status, plan = call("GET", f"/members/{member.pk}/offboarding", token)
    assert status == 200
    assert (
        plan["granted_channel_ids"] == [channel.pk] and len(plan["token_ids"]) == 1 and plan["refused"] == ""
    )
    assert member.is_active and not AuditEntry.objects.filter(action="member.offboard").exists()
    status, done = call("POST", f"/members/{member.pk}/offboard", token, {"conversations_to": colleague.pk})
    assert status == 200 and done["done"] is True
    assert done["details"]["grants"] == ["@api_canal (sandbox)"]
    assert AuditEntry.objects.get(pk=done["audit_entry_id"]).action == "member.offboard"
    assert call("GET", "/me", leaver_token)[0] == 401  # their token died with their access
    status, again = call("POST", f"/members/{member.pk}/offboard", token, {})
    assert status == 200 and again == {"done": False, "audit_entry_id": None, "details": {}}
    owner_member = Membership.objects.get(user=team.owner)
    status, refused = call("POST", f"/members/{owner_member.pk}/offboard", token, {})
    assert status == 409 and refused["code"] == "offboarding_refused"
    status, refused = call("POST", f"/members/{member.pk}/offboard", token, {"posts_to": 2**40})
    assert status == 422 and refused["code"] == "not_a_member"


def test_nothing_of_another_organization(team: Team, smtp_server: StartSmtp) -> None:
    smtp_server()
    other = make_org("Rival")
    rival = make_member(other, Role.ADMIN)
    rival_token = token_for(rival, other, ALL_SCOPES)
    admin_token = token_for(team.admin, team.org)
    status, invitation = call(
        "POST", "/invitations", admin_token, {"email": "a@example.com", "role": "analyst"}
    )
    assert status == 201
    member = Membership.objects.get(user=team.admin)
    assert call("POST", f"/invitations/{invitation['id']}/resend", rival_token)[0] == 404
    assert call("DELETE", f"/invitations/{invitation['id']}", rival_token)[0] == 404
    assert call("GET", f"/members/{member.pk}/offboarding", rival_token)[0] == 404
    assert call("POST", f"/members/{member.pk}/offboard", rival_token, {})[0] == 404
    rows = call("GET", "/access-review?state=", rival_token)[1]["items"]
    assert {row["user"]["email"] for row in rows} == {
        rival.email,
        Membership.objects.get(organization=other, role=Role.OWNER).user.email,
    }
    connect_channel(SYSTEM, team.brand, "sandbox", "solo_a", "A")
    assert call("GET", "/coverage", rival_token)[1] == []
    status, _refused = call(
        "POST",
        "/invitations",
        rival_token,
        {"email": "b@example.com", "role": "analyst", "brand_ids": [team.brand.pk], "all_brands": False},
    )
    assert status == 422
    status, _body = call(
        "POST", f"/members/{Membership.objects.get(user=rival).pk}/offboard", admin_token, {}
    )
    assert status == 404
    assert Membership.objects.get(user=team.admin).is_active and Membership.objects.get(user=rival).is_active


def test_access_review_and_coverage_read(team: Team) -> None:
    token = token_for(team.owner, team.org, ["audit:read"])
    connect_channel(SYSTEM, team.brand, "sandbox", "sin_backup", "Sin")
    status, gaps = call("GET", "/coverage", token)
    assert status == 200 and [(g["handle"], g["kind"]) for g in gaps] == [("sin_backup", "no_operator")]
    status, rows = call("GET", "/access-review?role=admin", token)
    assert status == 200 and [r["user"]["email"] for r in rows["items"]] == ["admin@example.com"]
    assert rows["items"][0]["second_factors"] == [] and rows["items"][0]["operates_every_channel"] is True
    status, rows = call("GET", "/access-review?idle=99999999999999999999&brand=-5&q=" + "x" * 5000, token)
    assert status == 200 and rows["count"] == 0
