"""Account Activity webhooks: the CRC challenge, the signature, and the events in a body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from tertulia.connectors.registry import connector_class
from tertulia.connectors.x.connector import XConnector

SECRET = "consumer-secret-of-the-app"


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_the_registry_knows_x() -> None:
    assert connector_class("x") is XConnector


def test_crc_answer() -> None:
    reply = XConnector.webhook_challenge({"crc_token": "abc123"}, SECRET)
    assert reply is not None
    assert reply.status == 200 and reply.content_type == "application/json"
    expected = base64.b64encode(hmac.new(SECRET.encode(), b"abc123", hashlib.sha256).digest()).decode()
    assert json.loads(reply.body) == {"response_token": "sha256=" + expected}


def test_crc_needs_a_token_and_a_secret() -> None:
    assert XConnector.webhook_challenge({}, SECRET) is None
    assert XConnector.webhook_challenge({"crc_token": ""}, SECRET) is None
    assert XConnector.webhook_challenge({"crc_token": "abc"}, "") is None


def test_signature_good_bad_missing_tampered() -> None:
    body = json.dumps({"for_user_id": "1", "favorite_events": [{"id": "9"}]}).encode()
    good = {"x-twitter-webhooks-signature": _sign(body)}
    assert XConnector.verify_webhook(good, body, SECRET)
    # Header names are case-insensitive.
    assert XConnector.verify_webhook({"X-Twitter-Webhooks-Signature": _sign(body)}, body, SECRET)
    assert not XConnector.verify_webhook({}, body, SECRET)  # missing
    assert not XConnector.verify_webhook({"x-twitter-webhooks-signature": ""}, body, SECRET)
    assert not XConnector.verify_webhook(  # signed with another secret
        {"x-twitter-webhooks-signature": _sign(body, "someone-else")}, body, SECRET
    )
    assert not XConnector.verify_webhook(good, body + b" ", SECRET)  # tampered body
    assert not XConnector.verify_webhook(good, body.replace(b'"9"', b'"8"'), SECRET)
    assert not XConnector.verify_webhook({"x-twitter-webhooks-signature": "sha256=garbage"}, body, SECRET)
    assert not XConnector.verify_webhook(good, body, "")  # no secret configured: refuse everything


TWEET_BODY = {
    "for_user_id": "2244994945",
    "user_has_blocked": False,
    "tweet_create_events": [
        {"id_str": "1850000000000000001", "text": "@casa hola", "user": {"id_str": "7"}},
        {"id_str": "1850000000000000002", "text": "@casa otra", "user": {"id_str": "8"}},
    ],
}


def test_parse_one_event_per_item() -> None:
    events = XConnector.parse_webhook(json.dumps(TWEET_BODY).encode())
    assert [e.kind for e in events] == ["tweet_create_events", "tweet_create_events"]
    assert [e.event_id for e in events] == [
        "tweet_create_events:1850000000000000001",
        "tweet_create_events:1850000000000000002",
    ]
    assert {e.account_id for e in events} == {"2244994945"}
    assert events[0].payload["tweet_create_events"]["text"] == "@casa hola"


def test_parse_direct_messages_follows_and_favorites() -> None:
    body = {
        "for_user_id": "1",
        "direct_message_events": [
            {"type": "message_create", "id": "1850000000000000009", "created_timestamp": "1700000000000"}
        ],
        "users": {"7": {"id": "7", "screen_name": "persona"}},
        "favorite_events": [{"id": "fav-1", "favorited_status": {"id_str": "5"}}],
        "follow_events": [
            {
                "type": "follow",
                "created_timestamp": "1700000000001",
                "source": {"id": "7"},
                "target": {"id": "1"},
            }
        ],
    }
    events = {e.kind: e for e in XConnector.parse_webhook(json.dumps(body).encode())}
    assert events["direct_message_events"].event_id == "direct_message_events:1850000000000000009"
    assert events["direct_message_events"].payload["users"]["7"]["screen_name"] == "persona"
    assert events["favorite_events"].event_id == "favorite_events:fav-1"
    # Follows carry no id: the users and the time make one, stable across redeliveries.
    assert events["follow_events"].event_id == "follow_events:follow-7-1-1700000000001"


def test_redelivery_gives_the_same_ids() -> None:
    body = json.dumps({"for_user_id": "1", "mystery_events": [{"a": 1}], "tweet_delete_events": [{"b": 2}]})
    first = XConnector.parse_webhook(body.encode())
    again = XConnector.parse_webhook(body.encode())
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert len({e.event_id for e in first}) == 2


def test_unknown_event_types_are_kept() -> None:
    body = {"for_user_id": "1", "brand_new_events": [{"id": "42"}], "some_flag": True}
    events = XConnector.parse_webhook(json.dumps(body).encode())
    assert {e.kind for e in events} == {"brand_new_events", "some_flag"}
    assert next(e for e in events if e.kind == "brand_new_events").event_id == "brand_new_events:42"


def test_a_body_without_events_has_none() -> None:
    assert XConnector.parse_webhook(b'{"for_user_id": "1"}') == []


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"null"])
def test_malformed_bodies_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        XConnector.parse_webhook(body)
