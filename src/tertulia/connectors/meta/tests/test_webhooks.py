"""Meta webhooks: the subscription handshake, X-Hub-Signature-256, and the events in a body."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tertulia.connectors.meta.connector import FacebookPageConnector, InstagramConnector
from tertulia.connectors.meta.tests.fake_graph import fixture
from tertulia.connectors.registry import connector_class
from tertulia.core.actions.context import Actor
from tertulia.vault.actions import register_app

SECRET = "app-secret-of-the-meta-app"


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _body(name: str) -> bytes:
    return json.dumps(fixture(name)).encode()


def test_the_registry_knows_both_networks() -> None:
    assert connector_class("facebook") is FacebookPageConnector
    assert connector_class("instagram") is InstagramConnector


@pytest.mark.parametrize("cls", [FacebookPageConnector, InstagramConnector])
def test_handshake(cls) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": SECRET, "hub.challenge": "1158201444"}
    reply = cls.webhook_challenge(query, SECRET)
    assert reply is not None
    assert (reply.status, reply.content_type, reply.body) == (200, "text/plain", "1158201444")
    assert cls.webhook_challenge({**query, "hub.verify_token": "guess"}, SECRET) is None
    assert cls.webhook_challenge({**query, "hub.mode": "unsubscribe"}, SECRET) is None
    assert cls.webhook_challenge({k: v for k, v in query.items() if k != "hub.challenge"}, SECRET) is None
    assert cls.webhook_challenge({}, SECRET) is None
    assert cls.webhook_challenge(query, "") is None  # nothing configured: refuse


def test_signature_good_bad_missing_tampered() -> None:
    body = _body("webhook_page_feed_comment")
    good = {"X-Hub-Signature-256": _sign(body)}
    verify = FacebookPageConnector.verify_webhook
    assert verify(good, body, SECRET)
    assert verify({"x-hub-signature-256": _sign(body)}, body, SECRET)  # any header casing
    assert verify({"X-Hub-Signature-256": _sign(body).upper().replace("SHA256=", "sha256=")}, body, SECRET)
    assert not verify({}, body, SECRET)  # missing
    assert not verify({"X-Hub-Signature-256": ""}, body, SECRET)
    assert not verify({"X-Hub-Signature-256": _sign(body, "another-app")}, body, SECRET)  # bad
    assert not verify(good, body + b" ", SECRET)  # tampered
    assert not verify(good, body.replace(b"domingo", b"lunes!!"), SECRET)
    assert not verify({"X-Hub-Signature": "sha1=" + hashlib.sha1(body).hexdigest()}, body, SECRET)  # noqa: S324 - the legacy SHA-1 header must be refused
    assert not verify({"X-Hub-Signature-256": "sha256=zz"}, body, SECRET)
    assert not verify(good, body, "")
    assert InstagramConnector.verify_webhook(good, body, SECRET)


def test_parse_page_feed_comment_and_reaction() -> None:
    events = FacebookPageConnector.parse_webhook(_body("webhook_page_feed_comment"))
    assert [e.kind for e in events] == ["feed.comment", "feed.reaction"]
    comment, reaction = events
    assert comment.event_id == "page:feed.comment:777_9001:add"
    assert comment.account_id == "100"
    assert comment.payload["change"]["value"]["message"] == "¿Abrís el domingo?"
    assert reaction.event_id == "page:feed.reaction:100_777:5550002:love:add"
    assert "feed.comment" in FacebookPageConnector.webhook_kinds
    assert "feed.reaction" not in FacebookPageConnector.webhook_kinds  # kept, not ingested
    # The same body parsed twice gives the same ids: a redelivery is stored once.
    assert [e.event_id for e in FacebookPageConnector.parse_webhook(_body("webhook_page_feed_comment"))] == [
        e.event_id for e in events
    ]


def test_parse_messenger_messages_and_reads() -> None:
    events = FacebookPageConnector.parse_webhook(_body("webhook_page_messaging"))
    assert [e.kind for e in events] == ["messaging.message", "messaging.read"]
    assert events[0].event_id == "page:messaging.message:m_AbCdEf123"
    assert events[0].payload["messaging"]["message"]["text"].startswith("Hola")
    assert events[1].event_id.startswith("page:messaging.read:")
    assert {e.account_id for e in events} == {"100"}


def test_parse_instagram_comments_mentions_and_messages() -> None:
    events = InstagramConnector.parse_webhook(_body("webhook_instagram_comments"))
    assert [e.kind for e in events] == ["comments", "mentions"]
    assert events[0].event_id == "instagram:comments:17865799348089039"
    assert events[1].event_id == "instagram:mentions:17865799348089555"
    assert {e.account_id for e in events} == {"17841400000000001"}
    messages = InstagramConnector.parse_webhook(_body("webhook_instagram_messaging"))
    assert [e.kind for e in messages] == ["messaging.message", "messaging.echo"]
    assert messages[0].event_id == "instagram:messaging.message:aWdfZAG1faXRlbToxOklH"
    assert {"comments", "mentions", "messaging.message"} <= InstagramConnector.webhook_kinds
    assert "messaging.echo" not in InstagramConnector.webhook_kinds  # our own messages, echoed


def test_unknown_kinds_are_kept() -> None:
    events = FacebookPageConnector.parse_webhook(_body("webhook_unknown"))
    assert [e.kind for e in events] == ["ratings", "page.entry"]
    assert all(e.event_id and e.account_id == "100" for e in events)
    assert events[1].payload["entry"]["standby"]
    assert not {e.kind for e in events} & FacebookPageConnector.webhook_kinds


@pytest.mark.parametrize(
    "body", [b"", b"{", b"\xff\xfe", b"[]", b'"text"', b'{"object": "page", "entry": {}}', b'{"entry": [1]}']
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(ValueError):
        FacebookPageConnector.parse_webhook(body)


def test_events_without_ids_get_stable_ones() -> None:
    body = {
        "object": "page",
        "entry": [{"id": "100", "time": 1, "changes": [{"field": "feed", "value": {}}]}],
    }
    first = FacebookPageConnector.parse_webhook(json.dumps(body).encode())
    again = FacebookPageConnector.parse_webhook(json.dumps(body).encode())
    assert first[0].event_id == again[0].event_id
    assert first[0].kind == "feed.unknown"


@pytest.mark.django_db
def test_the_intake_endpoint_takes_signed_events_once(client) -> None:
    """End to end through /hooks/facebook/: handshake, a bad signature refused, a replay stored once."""
    from tertulia.connectors.models import InboundEvent

    register_app(Actor.system(), "facebook", "1234", {"client_secret": SECRET, "webhook_secret": SECRET})
    answer = client.get(
        "/hooks/facebook/", {"hub.mode": "subscribe", "hub.verify_token": SECRET, "hub.challenge": "42"}
    )
    assert answer.status_code == 200 and answer.content == b"42"
    body = _body("webhook_page_feed_comment")
    refused = client.post(
        "/hooks/facebook/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_sign(body, "x")
    )
    assert refused.status_code == 401 and not InboundEvent.objects.exists()
    for _attempt in range(2):
        taken = client.post(
            "/hooks/facebook/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=_sign(body)
        )
        assert taken.status_code == 200
    assert InboundEvent.objects.filter(network="facebook").count() == 2
