"""Crisis mode over the API: /api/v1/crisis/crises..."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tertulia.api.actions import create_token
from tertulia.api.scopes import allowed_scopes
from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Role, User
from tertulia.core.permissions import membership, permissions_of
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.crisis.models import ChecklistItem, Crisis, CrisisRole, CrisisState
from tertulia.publishing.models import Pause

from .mode_support import HOSTILE, Team, make_playbook, team

__all__ = ["team"]


def _token(user: User, org, scopes: list[str] | None = None) -> str:
    wanted = scopes if scopes is not None else allowed_scopes(permissions_of(membership(user, org)))
    _made, plaintext = create_token(Actor.system("test"), user, org, "test", wanted)
    return plaintext


def _call(method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    client = Client()
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    response = getattr(client, method)(f"/api/v1{path}", **kwargs)
    content = response.content.decode()
    return response.status_code, json.loads(content) if content else None


def test_start_read_work_and_end(team: Team):
    make_playbook(team.brand)
    manager = _token(team.manager, team.org)
    status, body = _call("post", "/crisis/crises", manager, {"brand_id": team.brand.pk, "title": HOSTILE})
    assert status == 201 and body["title"] == HOSTILE.strip() and body["state"] == "active"
    assert len(body["checklist"]) == 3 and body["pinned_statements"][0]["shortcut"] == "espera"
    assert body["metrics"]["posts_held"] == 0
    crisis_id = body["id"]
    status, again = _call("post", "/crisis/crises", manager, {"brand_id": team.brand.pk, "title": "Otra"})
    assert status == 200 and again["id"] == crisis_id
    cm = _token(team.cm, team.org)
    step = body["checklist"][0]["id"]
    status, ticked = _call("post", f"/crisis/crises/{crisis_id}/checklist/{step}", cm, {"note": "Hecho"})
    assert status == 200 and ticked["done_by_id"] == team.cm.pk and ticked["done_at"]
    status, note = _call("post", f"/crisis/crises/{crisis_id}/notes", cm, {"text": "Bajando"})
    assert status == 201 and note["kind"] == "note"
    status, _ = _call(
        "post", f"/crisis/crises/{crisis_id}/roles", cm, {"user_id": team.colleague.pk, "role": "responder"}
    )
    assert status == 403
    status, detail = _call(
        "post",
        f"/crisis/crises/{crisis_id}/roles",
        manager,
        {"user_id": team.colleague.pk, "role": "responder"},
    )
    assert status == 200 and any(
        r["user_id"] == team.colleague.pk and r["role"] == "responder" for r in detail["roles"]
    )
    status, _ = _call(
        "delete", f"/crisis/crises/{crisis_id}/roles?user_id={team.colleague.pk}&role=responder", manager
    )
    assert status == 204 and not CrisisRole.objects.filter(user=team.colleague).exists()
    status, listed = _call("get", "/crisis/crises?state=active", cm)
    assert status == 200 and [c["id"] for c in listed["items"]] == [crisis_id]
    status, _ = _call("post", f"/crisis/crises/{crisis_id}/end", cm, {})
    assert status == 403
    status, ended = _call("post", f"/crisis/crises/{crisis_id}/end", manager, {"resume_publishing": False})
    assert status == 200 and ended["state"] == "closed" and ended["pinned_statements"] == []
    assert Pause.objects.get(pk=ended["pause_id"]).ended_at is None
    status, _ = _call("post", f"/crisis/crises/{crisis_id}/notes", manager, {"text": "Tarde"})
    assert status == 422


def test_scopes_and_tenancy(team: Team):
    crisis_id = None
    owner = _token(team.owner, team.org)
    status, body = _call("post", "/crisis/crises", owner, {"brand_id": None, "title": "Todo"})
    assert status == 201 and body["brand_id"] is None
    crisis_id = body["id"]
    read_only = _token(team.manager, team.org, ["crisis:read"])
    assert _call("get", f"/crisis/crises/{crisis_id}", read_only)[0] == 200
    assert _call("post", f"/crisis/crises/{crisis_id}/notes", read_only, {"text": "x"})[0] == 403
    limited = _token(team.limited, team.org)
    assert _call("post", "/crisis/crises", limited, {"brand_id": team.brand.pk, "title": "x"})[0] == 404
    assert _call("post", "/crisis/crises", limited, {"title": "x"})[0] == 403  # not every brand
    brand_crisis = _call("post", "/crisis/crises", owner, {"brand_id": team.brand.pk, "title": "Marca"})[1][
        "id"
    ]
    assert _call("get", f"/crisis/crises/{brand_crisis}", limited)[0] == 404
    elsewhere = make_org("Fuera SA")
    make_brand(elsewhere)
    outsider = Membership.objects.get(organization=elsewhere, role=Role.OWNER).user
    foreign = _token(outsider, elsewhere)
    for path in (f"/crisis/crises/{crisis_id}", f"/crisis/crises/{brand_crisis}"):
        assert _call("get", path, foreign)[0] == 404
    assert _call("post", f"/crisis/crises/{brand_crisis}/end", foreign, {})[0] == 404
    status, _ = _call("post", "/crisis/crises", owner, {"brand_id": team.brand.pk, "title": "x" * 201})
    assert status == 422
    assert Crisis.objects.filter(state=CrisisState.ACTIVE).count() == 2
    # The brand's crisis runs the brand's default playbook (written from seed 001 when it had none);
    # the organization-wide one has no brand, so no playbook of its own.
    assert ChecklistItem.objects.filter(crisis_id=brand_crisis).exists()
    assert not ChecklistItem.objects.filter(crisis_id=crisis_id).exists()
