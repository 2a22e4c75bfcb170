from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tertulia.connectors import registry
from tertulia.connectors.base import Capability, Connector, WebhookEvent, WebhookReply
from tertulia.connectors.models import EventStatus, InboundEvent
from tertulia.connectors.webhooks import MAX_BODY_BYTES, sweep
from tertulia.core.actions.context import Actor
from tertulia.vault.actions import register_app

pytestmark = pytest.mark.django_db
SECRET = "hook-secret"


class SignedNet(Connector):
    """A network that signs bodies with HMAC-SHA256 in `X-Signature` and answers `challenge`."""

    network = "signednet"
    display_name = "SignedNet"
    capabilities = frozenset({Capability.WEBHOOKS})
    webhook_kinds = frozenset({"mention"})

    @classmethod
    def webhook_challenge(cls, query: Mapping[str, str], secret: str) -> WebhookReply | None:
        if "challenge" not in query:
            return None
        return WebhookReply(200, "text/plain", query["challenge"])

    @classmethod
    def verify_webhook(cls, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(headers.get("X-Signature", ""), expected)

    @classmethod
    def parse_webhook(cls, body: bytes) -> list[WebhookEvent]:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise ValueError("no events")
        return [
            WebhookEvent(str(e["id"]), str(e["kind"]), str(e.get("account", "")), e) for e in data["events"]
        ]


@pytest.fixture(autouse=True)
def signednet(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "signednet", f"{__name__}.SignedNet")
    register_app(Actor.system(), "signednet", "client-1", {"webhook_secret": SECRET})


def post(body: bytes, signature: str | None = None) -> Any:  # the test client's response type is private
    headers = {} if signature is None else {"X-Signature": signature}
    return Client().post("/hooks/signednet/", body, content_type="application/json", headers=headers)


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(*events: dict[str, object]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


def test_a_signed_delivery_is_stored_once_and_sorted(django_capture_on_commit_callbacks):
    body = body_of({"id": "e1", "kind": "mention", "account": "42"}, {"id": "e2", "kind": "brand_new_kind"})
    with django_capture_on_commit_callbacks(
        execute=True
    ):  # the worker is woken once the events are committed
        first = post(body, sign(body))
    assert first.status_code == 200 and first.json() == {"stored": 2, "duplicates": 0}
    again = post(body, sign(body))  # the network retries, or someone replays it
    assert again.json() == {"stored": 0, "duplicates": 2}
    statuses = dict(InboundEvent.objects.values_list("event_id", "status"))
    assert statuses == {"e1": EventStatus.READY, "e2": EventStatus.IGNORED}
    assert InboundEvent.objects.get(event_id="e1").account_id == "42"


@pytest.mark.parametrize(
    "signature", [None, "", "0" * 64, sign(b"something else"), sign(b"x", "wrong-secret")]
)
def test_a_bad_or_missing_signature_stores_nothing(signature):
    body = body_of({"id": "e1", "kind": "mention"})
    response = post(body, signature)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"events": "no"}'])
def test_a_malformed_body_is_a_400_and_stores_nothing(body):
    response = post(body, sign(body))
    assert response.status_code == 400
    assert not InboundEvent.objects.exists()


def test_an_oversized_body_is_refused_before_anything_else():
    body = b"x" * (MAX_BODY_BYTES + 1)
    assert post(body, sign(body)).status_code == 413
    assert not InboundEvent.objects.exists()


def test_the_verification_handshake_and_unconfigured_or_unknown_networks():
    assert Client().get("/hooks/signednet/", {"challenge": "abc123"}).content == b"abc123"
    assert Client().get("/hooks/signednet/").status_code == 400
    assert Client().post("/hooks/nowhere/", b"{}", content_type="application/json").status_code == 404
    # The sandbox does not push events.
    assert Client().post("/hooks/sandbox/", b"{}", content_type="application/json").status_code == 404


def test_a_network_without_an_app_registration_refuses(monkeypatch):
    from tertulia.vault.models import NetworkApp

    NetworkApp.objects.all().delete()
    body = body_of({"id": "e1", "kind": "mention"})
    assert post(body, sign(body)).status_code == 404


def test_the_sweep_finishes_events_whose_wake_up_was_lost():
    InboundEvent.objects.create(network="signednet", event_id="lost", kind="mention")
    InboundEvent.objects.filter(event_id="lost").update(received_at=timezone.now() - timedelta(minutes=5))
    assert sweep() == 1
    assert InboundEvent.objects.get(event_id="lost").status == EventStatus.READY
    assert sweep() == 0


def test_hostile_payloads_are_stored_verbatim():
    hostile = "<script>alert(1)</script>\u202e\u200b😀" * 50
    body = body_of({"id": "h1", "kind": "mention", "text": hostile})
    assert post(body, sign(body)).status_code == 200
    assert InboundEvent.objects.get(event_id="h1").payload["text"] == hostile
