"""X's Account Activity webhooks end to end, through the real `/hooks/x/` endpoint: the CRC handshake,
the signature X sends, events stored once each, and sorted into ready (kinds the inbox ingests) or ignored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from tertulia.connectors.base import Capability
from tertulia.connectors.models import EventStatus, InboundEvent
from tertulia.connectors.x.connector import XConnector
from tertulia.core.actions.context import Actor
from tertulia.vault.actions import register_app

pytestmark = pytest.mark.django_db
SECRET = "x-consumer-secret"
ME = "1500000000000000001"


def x_signature(body: bytes, secret: str = SECRET) -> str:
    """What X puts in `x-twitter-webhooks-signature`: sha256= and the base64 HMAC-SHA256 of the raw body."""
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(body: bytes, signature: str | None) -> Any:
    headers = {} if signature is None else {"x-twitter-webhooks-signature": signature}
    return Client().post("/hooks/x/", body, content_type="application/json", headers=headers)


def activity() -> bytes:
    """A body as the Account Activity API sends it: one account, several kinds of events."""
    return json.dumps(
        {
            "for_user_id": ME,
            "tweet_create_events": [
                {"id_str": "1800000000000000001", "text": "@casa hola", "user": {"id_str": "42"}},
                {"id_str": "1800000000000000002", "text": "@casa otra", "user": {"id_str": "43"}},
            ],
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": "1800000000000000003",
                    "created_timestamp": "1717236000000",
                    "message_create": {"sender_id": "42", "message_data": {"text": "privado"}},
                }
            ],
            "favorite_events": [{"id": "fav-1", "favorited_status": {"id_str": "1800000000000000009"}}],
            "users": {"42": {"id": "42", "screen_name": "persona"}},
        }
    ).encode()


@pytest.fixture(autouse=True)
def x_app() -> None:
    register_app(Actor.system(), "x", "client", {"webhook_secret": SECRET})


def test_declares_webhooks_and_the_kinds_the_inbox_ingests() -> None:
    assert XConnector.supports(Capability.WEBHOOKS)
    assert {"tweet_create_events", "direct_message_events"} <= XConnector.webhook_kinds
    assert "favorite_events" not in XConnector.webhook_kinds


def test_crc_through_the_endpoint() -> None:
    response = Client().get("/hooks/x/", {"crc_token": "token-de-prueba"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    expected = base64.b64encode(hmac.new(SECRET.encode(), b"token-de-prueba", hashlib.sha256).digest())
    assert response.json() == {"response_token": "sha256=" + expected.decode()}
    assert Client().get("/hooks/x/").status_code == 400  # not a CRC request


def test_events_are_stored_once_and_sorted(django_capture_on_commit_callbacks) -> None:
    body = activity()
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(body, x_signature(body))
    assert response.status_code == 200
    assert response.json() == {"stored": 4, "duplicates": 0}
    events = {e.event_id: e for e in InboundEvent.objects.filter(network="x")}
    assert set(events) == {
        "tweet_create_events:1800000000000000001",
        "tweet_create_events:1800000000000000002",
        "direct_message_events:1800000000000000003",
        "favorite_events:fav-1",
    }
    assert {e.account_id for e in events.values()} == {ME}
    ready = {e.event_id for e in events.values() if e.status == EventStatus.READY}
    assert ready == {
        "tweet_create_events:1800000000000000001",
        "tweet_create_events:1800000000000000002",
        "direct_message_events:1800000000000000003",
    }
    assert events["favorite_events:fav-1"].status == EventStatus.IGNORED
    dm = events["direct_message_events:1800000000000000003"].payload
    assert dm["direct_message_events"]["message_create"]["message_data"]["text"] == "privado"
    assert dm["users"]["42"]["screen_name"] == "persona"


def test_a_redelivery_is_stored_once(django_capture_on_commit_callbacks) -> None:
    body = activity()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(body, x_signature(body)).json() == {"stored": 4, "duplicates": 0}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = deliver(body, x_signature(body))
    assert again.status_code == 200
    assert again.json() == {"stored": 0, "duplicates": 4}
    assert callbacks == []  # nothing new: no worker woken
    assert InboundEvent.objects.filter(network="x").count() == 4
    # One new event next to a known one: only the new one is stored.
    mixed = json.dumps(
        {
            "for_user_id": ME,
            "tweet_create_events": [
                {"id_str": "1800000000000000001", "text": "@casa hola"},
                {"id_str": "1800000000000000010", "text": "@casa nueva"},
            ],
        }
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(mixed, x_signature(mixed)).json() == {"stored": 1, "duplicates": 1}
    assert (
        InboundEvent.objects.get(event_id="tweet_create_events:1800000000000000010").status
        == EventStatus.READY
    )


@pytest.mark.parametrize(
    "signature",
    [
        None,  # missing
        "",
        "sha256=",
        "sha256=" + base64.b64encode(b"\x00" * 32).decode(),  # well formed, wrong
        "signed-with-another-secret",
    ],
)
def test_a_bad_signature_is_401_and_nothing_is_stored(signature: str | None) -> None:
    body = activity()
    if signature == "signed-with-another-secret":
        signature = x_signature(body, secret="not-the-secret")
    response = deliver(body, signature)
    assert response.status_code == 401
    assert InboundEvent.objects.count() == 0


def test_a_tampered_body_is_401_and_nothing_is_stored() -> None:
    body = activity()
    signature = x_signature(body)
    tampered = body.replace(b"@casa hola", b"@casa HOLA")
    assert deliver(tampered, signature).status_code == 401
    assert InboundEvent.objects.count() == 0


def test_a_signed_body_that_is_not_json_is_400() -> None:
    body = b"not json"
    assert deliver(body, x_signature(body)).status_code == 400
    assert InboundEvent.objects.count() == 0
