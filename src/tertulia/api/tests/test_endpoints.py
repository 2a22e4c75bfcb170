"""Every endpoint's happy path, and that API changes land in the audit trail as via=api."""

from __future__ import annotations

import json

import pytest

from tertulia.api.models import ApiToken
from tertulia.connectors import registry
from tertulia.core.models import AuditEntry, Brand, Channel, Contact, ContactHandle, Membership, Role, User

from .conftest import Api, Tenant, TokenMaker

pytestmark = pytest.mark.django_db


def test_me(api: Api, tenant: Tenant, owner_token: str) -> None:
    response = api.get("/me", owner_token)
    assert response.status == 200
    body = response.body
    assert body["user"]["email"] == tenant.owner.email
    assert body["organization"]["slug"] == tenant.org.slug
    assert body["role"] == "owner"
    assert "brands:write" in body["scopes"]
    assert body["token"]["prefix"] == owner_token.split("_")[1]
    assert owner_token not in str(body)


def test_organization(api: Api, tenant: Tenant, owner_token: str) -> None:
    response = api.get("/organization", owner_token)
    assert response.status == 200
    assert response.body["id"] == tenant.org.pk and response.body["name"] == "Acme"


def test_members(api: Api, tenant: Tenant, owner_token: str) -> None:
    response = api.get("/members", owner_token)
    assert response.status == 200
    assert response.body["count"] == len(Role)
    emails = {m["user"]["email"] for m in response.body["items"]}
    assert tenant.owner.email in emails

    analyst = Membership.objects.get(organization=tenant.org, user=tenant.person(Role.ANALYST))
    assert api.get(f"/members/{analyst.pk}", owner_token).body["role"] == "analyst"
    response = api.patch(f"/members/{analyst.pk}", owner_token, {"role": "community_manager"})
    assert response.status == 200 and response.body["role"] == "community_manager"
    response = api.patch(f"/members/{analyst.pk}", owner_token, {"is_active": False})
    assert response.status == 200 and response.body["is_active"] is False
    assert api.get("/members?active=false", owner_token).body["count"] == 1
    response = api.patch(f"/members/{analyst.pk}", owner_token, {"is_active": True})
    assert response.body["is_active"] is True


def test_last_owner_cannot_be_demoted(api: Api, tenant: Tenant, owner_token: str) -> None:
    owner = Membership.objects.get(organization=tenant.org, user=tenant.owner)
    response = api.patch(f"/members/{owner.pk}", owner_token, {"role": "admin"})
    assert response.status == 409
    assert response.body["code"] == "last_owner"
    # Both changes or neither.
    response = api.patch(f"/members/{owner.pk}", owner_token, {"is_active": False})
    assert response.status == 409
    owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active


def test_only_owners_touch_the_owner_role(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    admin_token = make_token(tenant.person(Role.ADMIN), tenant.org, ["members:write"])
    admin = Membership.objects.get(organization=tenant.org, user=tenant.person(Role.ADMIN))
    response = api.patch(f"/members/{admin.pk}", admin_token, {"role": "owner"})
    assert response.status == 403
    cm = Membership.objects.get(organization=tenant.org, user=tenant.person(Role.COMMUNITY_MANAGER))
    assert api.patch(f"/members/{cm.pk}", admin_token, {"role": "analyst"}).status == 200


def test_brands(api: Api, tenant: Tenant, owner_token: str) -> None:
    response = api.post("/brands", owner_token, {"name": "Café Olé", "reach_threshold": 100})
    assert response.status == 201, response
    brand = response.body
    assert brand["slug"] == "cafe-ole" and brand["reach_threshold"] == 100
    assert api.get(f"/brands/{brand['id']}", owner_token).body["name"] == "Café Olé"
    response = api.patch(f"/brands/{brand['id']}", owner_token, {"audience": "Madrid", "is_archived": True})
    assert response.status == 200 and response.body["audience"] == "Madrid" and response.body["is_archived"]
    listing = api.get("/brands?archived=true", owner_token).body
    assert [b["id"] for b in listing["items"]] == [brand["id"]]
    assert api.get("/brands?archived=false", owner_token).body["count"] == 0


def test_competitors(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "B"}).body["id"]
    response = api.post(
        f"/brands/{brand_id}/competitors",
        owner_token,
        {"name": "Rival", "handles": ["@rival"], "website": "https://rival.example"},
    )
    assert response.status == 201, response
    comp_id = response.body["id"]
    assert api.get(f"/brands/{brand_id}/competitors", owner_token).body["count"] == 1
    assert api.get(f"/competitors/{comp_id}", owner_token).body["handles"] == ["@rival"]
    response = api.patch(f"/competitors/{comp_id}", owner_token, {"notes": "cheaper"})
    assert response.status == 200 and response.body["notes"] == "cheaper"
    assert api.patch(f"/competitors/{comp_id}", owner_token, {"website": "not a url"}).status == 422
    assert api.delete(f"/competitors/{comp_id}", owner_token).status == 204
    assert api.get(f"/competitors/{comp_id}", owner_token).status == 404


def test_objectives(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "B"}).body["id"]
    payload = {
        "title": "Answer fast",
        "kpi": "response_time",
        "direction": "at_most",
        "target": "30.50",
        "period_start": "2025-01-01",
        "period_end": "2025-03-31",
    }
    response = api.post(f"/brands/{brand_id}/objectives", owner_token, payload)
    assert response.status == 201, response
    obj_id = response.body["id"]
    assert api.get(f"/brands/{brand_id}/objectives", owner_token).body["count"] == 1
    assert api.get(f"/objectives/{obj_id}", owner_token).body["kpi"] == "response_time"
    response = api.patch(f"/objectives/{obj_id}", owner_token, {"target": 25})
    assert response.status == 200 and float(response.body["target"]) == 25
    # The period must be ordered: a model check, answered 422.
    response = api.patch(f"/objectives/{obj_id}", owner_token, {"period_end": "2024-01-01"})
    assert response.status == 422, response
    assert api.post(f"/brands/{brand_id}/objectives", owner_token, {**payload, "kpi": "nope"}).status == 422
    assert api.delete(f"/objectives/{obj_id}", owner_token).status == 204


@pytest.fixture
def fakenet(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the fake connector, so channel tests do not depend on the sandbox network's tables."""
    monkeypatch.setitem(registry.CONNECTORS, "fakenet", "tertulia.api.tests.fakes.FakeConnector")
    return "fakenet"


def test_channels(api: Api, tenant: Tenant, owner_token: str, fakenet: str) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "B"}).body["id"]
    response = api.post(
        f"/brands/{brand_id}/channels", owner_token, {"network": fakenet, "handle": "@Acme_es"}
    )
    assert response.status == 201, response
    channel = response.body
    assert (
        channel["network"] == fakenet and channel["handle"] == "acme_es" and channel["brand_id"] == brand_id
    )
    assert channel["capabilities"] == ["publish_text", "reply"]
    assert channel["external_id"] == "fake-acme_es"

    # The same account twice is a conflict, not a crash.
    response = api.post(
        f"/brands/{brand_id}/channels", owner_token, {"network": fakenet, "handle": "acme_es"}
    )
    assert response.status == 409, response
    assert Channel.objects.filter(organization=tenant.org).count() == 1

    response = api.post(f"/brands/{brand_id}/channels", owner_token, {"network": "myspace", "handle": "acme"})
    assert response.status == 422
    assert response.body["code"] == "unknown_network"
    assert {"sandbox", fakenet} <= set(response.body["networks"])
    response = api.post(
        f"/brands/{brand_id}/channels", owner_token, {"network": fakenet, "handle": "no spaces!"}
    )
    assert response.status == 422, response
    assert response.body["code"] == "rejected_by_network"

    assert api.get("/channels", owner_token).body["count"] == 1
    assert api.get(f"/channels?brand_id={brand_id}&network={fakenet}", owner_token).body["count"] == 1
    assert api.get("/channels?status=paused", owner_token).body["count"] == 0
    assert api.get(f"/channels/{channel['id']}", owner_token).body["handle"] == "acme_es"

    response = api.patch(f"/channels/{channel['id']}", owner_token, {"status": "paused"})
    assert response.status == 200 and response.body["status"] == "paused"
    assert api.patch(f"/channels/{channel['id']}", owner_token, {"status": "exploded"}).status == 422

    cm = tenant.person(Role.COMMUNITY_MANAGER)
    response = api.put(f"/channels/{channel['id']}/operators", owner_token, {"user_ids": [cm.pk]})
    assert response.status == 200 and response.body == {"user_ids": [cm.pk]}
    assert api.get(f"/channels/{channel['id']}", owner_token).body["operator_ids"] == [cm.pk]
    response = api.put(f"/channels/{channel['id']}/operators", owner_token, {"user_ids": []})
    assert response.body == {"user_ids": []}


def test_channel_on_the_sandbox_network(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "B"}).body["id"]
    response = api.post(
        f"/brands/{brand_id}/channels", owner_token, {"network": "sandbox", "handle": "@Acme_es"}
    )
    assert response.status == 201, response
    assert response.body["network"] == "sandbox" and response.body["handle"] == "acme_es"
    response = api.post(
        f"/brands/{brand_id}/channels", owner_token, {"network": "sandbox", "handle": "acme_es"}
    )
    assert response.status in {409, 422}, response


def test_operators_must_be_members(api: Api, tenant: Tenant, other: Tenant, owner_token: str) -> None:
    brand = Brand.objects.create(organization=tenant.org, name="B", slug="b")
    channel = Channel.objects.create(organization=tenant.org, brand=brand, network="sandbox", handle="acme")
    response = api.put(f"/channels/{channel.pk}/operators", owner_token, {"user_ids": [other.owner.pk]})
    assert response.status == 422
    assert response.body["code"] == "not_a_member"
    # The refusal names ids, never another organization's people.
    assert other.owner.email not in str(response.body)


def test_contacts(api: Api, tenant: Tenant, owner_token: str) -> None:
    response = api.post("/contacts", owner_token, {"display_name": "Ana Pérez", "is_customer": True})
    assert response.status == 201, response
    contact_id = response.body["id"]
    api.post("/contacts", owner_token, {"display_name": "Bruno"})
    response = api.post(
        f"/contacts/{contact_id}/handles",
        owner_token,
        {"network": "sandbox", "handle": "anita", "followers_count": 12000},
    )
    assert response.status == 201, response
    handle_id = response.body["id"]
    contact = api.get(f"/contacts/{contact_id}", owner_token).body
    assert contact["followers"] == 12000 and contact["handles"][0]["handle"] == "anita"

    assert api.get("/contacts", owner_token).body["count"] == 2
    assert [c["display_name"] for c in api.get("/contacts?q=anit", owner_token).body["items"]] == [
        "Ana Pérez"
    ]
    assert [c["display_name"] for c in api.get("/contacts?q=brU", owner_token).body["items"]] == ["Bruno"]
    assert api.get("/contacts?is_customer=true", owner_token).body["count"] == 1
    page = api.get("/contacts?limit=1&offset=1", owner_token).body
    assert page["count"] == 2 and [c["display_name"] for c in page["items"]] == ["Bruno"]

    response = api.patch(f"/contacts/{contact_id}", owner_token, {"notes": "VIP"})
    assert response.status == 200 and response.body["notes"] == "VIP"

    # The same handle twice is a conflict.
    response = api.post(
        f"/contacts/{contact_id}/handles", owner_token, {"network": "sandbox", "handle": "anita"}
    )
    assert response.status == 409
    assert ContactHandle.objects.count() == 1

    assert api.delete(f"/contacts/{contact_id}/handles/{handle_id}", owner_token).status == 204
    assert api.get(f"/contacts/{contact_id}", owner_token).body["handles"] == []
    assert Contact.objects.count() == 2


def test_audit(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "Audited"}).body["id"]
    api.patch(f"/brands/{brand_id}", owner_token, {"audience": "all"})
    response = api.get("/audit", owner_token)
    assert response.status == 200
    items = response.body["items"]
    assert items[0]["action"] == "brand.update"  # newest first
    assert items[0]["via"] == "api"
    assert items[0]["actor_label"] == f"{tenant.owner.email} (token {owner_token.split('_')[1]})"
    assert items[0]["actor_id"] == tenant.owner.pk
    filtered = api.get(f"/audit?action=brand.create&object_id={brand_id}", owner_token).body
    assert filtered["count"] == 1 and filtered["items"][0]["object_type"] == "core.brand"
    assert api.get("/audit?via=api&object_type=core.brand", owner_token).body["count"] == 2


def test_every_write_is_audited_via_api(api: Api, tenant: Tenant, owner_token: str) -> None:
    before = AuditEntry.objects.count()
    brand_id = api.post("/brands", owner_token, {"name": "X"}).body["id"]
    api.post(f"/brands/{brand_id}/competitors", owner_token, {"name": "Y"})
    contact_id = api.post("/contacts", owner_token, {"display_name": "Z"}).body["id"]
    api.patch(f"/contacts/{contact_id}", owner_token, {"is_customer": True})
    new = AuditEntry.objects.order_by("id")[before:]
    assert [e.action for e in new] == [
        "brand.create",
        "competitor.create",
        "contact.create",
        "contact.update",
    ]
    assert {e.via for e in new} == {"api"}
    assert all(e.actor == tenant.owner for e in new)


def test_tokens(api: Api, tenant: Tenant, owner_token: str) -> None:
    response = api.post("/tokens", owner_token, {"name": "deploy", "scopes": ["brands:read"]})
    assert response.status == 201, response
    created = response.body
    assert created["token"].startswith(f"trt_{created['prefix']}_")
    assert api.get("/me", created["token"]).status == 200

    listing = api.get("/tokens", owner_token).body
    assert listing["count"] == 2
    assert all("token" not in t and "digest" not in t for t in listing["items"])
    assert created["token"] not in str(listing)

    assert api.delete(f"/tokens/{created['id']}", owner_token).status == 204
    assert api.get("/me", created["token"]).status == 401
    assert api.get("/tokens", owner_token).body["count"] == 1
    assert api.get("/tokens?include_revoked=true", owner_token).body["count"] == 2
    entry = AuditEntry.objects.filter(action="api_token.revoke").get()
    assert entry.via == "api"


def test_tokens_of_other_people_are_invisible(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    mine = make_token(tenant.owner, tenant.org)
    theirs = make_token(tenant.person(Role.ADMIN), tenant.org)
    their_id = ApiToken.objects.get(prefix=theirs.split("_")[1]).pk
    assert api.delete(f"/tokens/{their_id}", mine).status == 404
    assert all(t["id"] != their_id for t in api.get("/tokens", mine).body["items"])
    assert api.get("/me", theirs).status == 200


def test_people_join_by_invitation_never_with_a_password_in_an_answer(api: Api, owner_token: str) -> None:
    added = api.post("/members", owner_token, {"email": "new.person@example.com", "role": "analyst"})
    assert added.status == 405
    assert not User.objects.filter(email="new.person@example.com").exists()
    invited = api.post("/invitations", owner_token, {"email": "new.person@example.com", "role": "analyst"})
    assert invited.status == 201, invited
    assert "password" not in json.dumps(invited.body) and "token" not in json.dumps(invited.body)


def test_rehearsals(api: Api, tenant: Tenant, owner_token: str, make_token: TokenMaker) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "Ensayo"}).body["id"]
    none_yet = api.post(f"/brands/{brand_id}/rehearsals", owner_token, {})
    assert (none_yet.status, none_yet.body["code"]) == (422, "no_sandbox_channel")
    api.post(f"/brands/{brand_id}/channels", owner_token, {"network": "sandbox", "handle": "ensayo_es"})
    staged = api.post(f"/brands/{brand_id}/rehearsals", owner_token, {"topic": "retrasos", "minutes": 5})
    assert staged.status == 201, staged
    assert staged.body["topic"] == "retrasos" and staged.body["is_active"]
    assert [r["topic"] for r in api.get(f"/brands/{brand_id}/rehearsals", owner_token).body] == ["retrasos"]
    assert AuditEntry.objects.filter(action="rehearsal.stage", via="api").exists()
    assert api.post(f"/brands/{brand_id}/rehearsals", owner_token, {"multiplier": 1000}).status == 422
    analyst_token = make_token(tenant.person("analyst"), tenant.org, ["brands:read"])
    assert api.post(f"/brands/{brand_id}/rehearsals", analyst_token, {}).status == 403
