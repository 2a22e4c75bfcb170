"""The webhooks API: scopes, the secret once, no URL ever, tenant boundaries, a test event."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.outbound_server import Site
from tertulia.webhooks import signing
from tertulia.webhooks.models import Delivery, DeliveryState, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings) -> Iterator[Site]:
    with Site().running() as site:
        settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
        site.route("/hook/T01/B02/xyz", b"ok")
        yield site


def new_endpoint(api, token, receiver, **extra):
    body = {
        "name": "SOC",
        "url": receiver.url + "/hook/T01/B02/xyz",
        "format": "generic",
        "event_types": ["security.account_compromised"],
        **extra,
    }
    return api.post("/webhooks", token, body)


def test_create_read_update_delete(api, owner_token, receiver, tenant):
    created = new_endpoint(api, owner_token, receiver)
    assert created.status == 201, created
    secret = created.body["secret"]
    assert secret.startswith("whsec_") and "url" not in created.body
    assert created.body["url_hint"].endswith("…") and "xyz" not in created.body["url_hint"]
    endpoint_id = created.body["id"]
    listed = api.get("/webhooks", owner_token)
    assert listed.body["count"] == 1 and "secret" not in listed.body["items"][0]
    assert secret not in json.dumps(listed.body) and "T01/B02/xyz" not in json.dumps(listed.body)
    changed = api.patch(f"/webhooks/{endpoint_id}", owner_token, {"is_active": False, "format": "mattermost"})
    assert (
        changed.status == 200
        and changed.body["is_active"] is False
        and changed.body["format"] == "mattermost"
    )
    rotated = api.post(f"/webhooks/{endpoint_id}/rotate-secret", owner_token)
    assert rotated.status == 200 and rotated.body["secret"] != secret
    assert api.delete(f"/webhooks/{endpoint_id}", owner_token).status == 204
    assert not Endpoint.objects.exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="webhook.").order_by("id").values_list("action", "via")
    )
    assert [a for a, _via in actions] == [
        "webhook.create",
        "webhook.update",
        "webhook.rotate_secret",
        "webhook.delete",
    ]
    assert {via for _a, via in actions} == {"api"}


def test_a_test_event_is_queued_and_delivered(api, owner_token, receiver, django_capture_on_commit_callbacks):
    created = new_endpoint(api, owner_token, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post(f"/webhooks/{created.body['id']}/test", owner_token)
    assert queued.status == 202 and queued.body["event_type"] == "webhook.test"
    [seen] = receiver.requests
    signing.verify(created.body["secret"], seen.headers, seen.body)
    deliveries = api.get(f"/webhooks/{created.body['id']}/deliveries", owner_token)
    assert deliveries.body["items"][0]["state"] == DeliveryState.SUCCEEDED
    assert deliveries.body["items"][0]["response_status"] == 200
    assert Delivery.objects.get().attempts == 1


def test_event_types_are_listed(api, owner_token):
    names = {item["name"] for item in api.get("/webhooks/event-types", owner_token).body}
    assert "security.post_held" in names and "webhook.test" not in names


def test_refusals_are_explained(api, owner_token, receiver):
    for url in ("http://10.0.0.1/hook", "https://169.254.169.254/", "http://example.com/hook"):
        answer = new_endpoint(api, owner_token, receiver, url=url)
        assert answer.status == 422 and answer.body["code"] == "webhook_refused"
    assert new_endpoint(api, owner_token, receiver, event_types=["nope.none"]).status == 422
    assert new_endpoint(api, owner_token, receiver, format="xml").status == 422
    assert new_endpoint(api, owner_token, receiver, name="a\x00b").status == 422
    assert not Endpoint.objects.exists()


def test_scopes_and_roles(api, owner_token, make_token, tenant, receiver):
    created = new_endpoint(api, owner_token, receiver)
    read_only = make_token(tenant.owner, tenant.org, ["webhooks:read"])
    assert api.get("/webhooks", read_only).status == 200
    assert new_endpoint(api, read_only, receiver).status == 403
    assert api.delete(f"/webhooks/{created.body['id']}", read_only).status == 403
    for role in (Role.BRAND_MANAGER, Role.COMMUNITY_MANAGER, Role.ANALYST):
        token = make_token(tenant.person(role), tenant.org, ["organization:read"])
        assert api.get("/webhooks", token).status == 403
    admin = make_token(tenant.person(Role.ADMIN), tenant.org, None)
    assert api.get("/webhooks", admin).status == 200


def test_another_organizations_endpoints_are_404(api, owner_token, other_token, receiver):
    created = new_endpoint(api, owner_token, receiver)
    endpoint_id = created.body["id"]
    assert api.get("/webhooks", other_token).body["count"] == 0
    assert api.get(f"/webhooks/{endpoint_id}", other_token).status == 404
    assert api.patch(f"/webhooks/{endpoint_id}", other_token, {"name": "mine"}).status == 404
    assert api.post(f"/webhooks/{endpoint_id}/test", other_token).status == 404
    assert api.post(f"/webhooks/{endpoint_id}/rotate-secret", other_token).status == 404
    assert api.get(f"/webhooks/{endpoint_id}/deliveries", other_token).status == 404
    assert api.delete(f"/webhooks/{endpoint_id}", other_token).status == 404
    assert Endpoint.objects.get().name == "SOC" and not Delivery.objects.exists()
