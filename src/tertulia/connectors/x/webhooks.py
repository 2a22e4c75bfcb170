"""X Account Activity webhooks: the CRC challenge, the signature, and the events in a body.

X proves a webhook URL is ours with a Challenge-Response Check: a GET with `crc_token`, answered with
`sha256=` + base64(HMAC-SHA256(consumer secret, crc_token)) as JSON. It repeats the check hourly, so
the answer must always be computed, never cached. Every POST carries `x-twitter-webhooks-signature`,
the same HMAC over the raw body.

A body holds one account's activity (`for_user_id`) and one or more arrays of events keyed by type:
`tweet_create_events`, `direct_message_events`, `favorite_events`, `follow_events`... Each item
becomes one WebhookEvent. Types we do not know are kept with their own key as kind.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from tertulia.connectors.base import WebhookEvent, WebhookReply

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# Keys of the body that are not event arrays.
ENVELOPE_KEYS = frozenset({"for_user_id", "user_has_blocked", "is_blocked_by", "source", "users", "apps"})


def signature(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_reply(query: Mapping[str, str], secret: str) -> WebhookReply | None:
    token = query.get("crc_token")
    if not token or not secret:
        return None
    body = json.dumps({"response_token": signature(secret, token.encode("utf-8"))})
    return WebhookReply(status=200, content_type="application/json", body=body)


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    if not secret:
        return False
    # Header names are case-insensitive; callers may hand us any casing.
    sent = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
    if not sent:
        return False
    return hmac.compare_digest(sent.strip().encode("utf-8"), signature(secret, body).encode("utf-8"))


def _item_id(kind: str, item: Mapping[str, Any]) -> str:
    """The network's id for the item; events without one (follows, blocks) get one derived from content."""
    for key in ("id_str", "id"):
        value = item.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return f"{kind}:{value}"
    # follow/block/mute events: the pair of users and the time identify the event.
    source = item.get("source") if isinstance(item.get("source"), dict) else {}
    target = item.get("target") if isinstance(item.get("target"), dict) else {}
    stamp = item.get("created_timestamp")
    if source or target or stamp:
        parts = [
            str(item.get("type", "")),
            str((source or {}).get("id", "")),
            str((target or {}).get("id", "")),
            str(stamp or ""),
        ]
        return f"{kind}:" + "-".join(parts)
    # Nothing to go on: the whole item, so an identical replay still maps to the same id.
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"))
    return f"{kind}:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def parse(body: bytes) -> list[WebhookEvent]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("The body is not JSON.") from exc
    if not isinstance(data, dict):
        raise ValueError("The body is not a JSON object.")
    account_id = str(data.get("for_user_id", "") or "")
    events: list[WebhookEvent] = []
    for kind, value in data.items():
        if kind in ENVELOPE_KEYS:
            continue
        items: list[Any] = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                # A key we do not know carrying a scalar: keep it as an event, it costs nothing.
                item = {"value": item}
            payload: dict[str, Any] = {"for_user_id": account_id, kind: item}
            # Direct message bodies bring the users and apps they mention alongside.
            for extra in ("users", "apps"):
                if extra in data:
                    payload[extra] = data[extra]
            events.append(
                WebhookEvent(
                    event_id=_item_id(kind, item),
                    kind=kind,
                    account_id=account_id,
                    payload=payload,
                )
            )
    return events
