"""Meta webhooks (Pages and Instagram share one format): the handshake, the signature, the events.

- Subscribing: Meta sends `GET ?hub.mode=subscribe&hub.verify_token=<ours>&hub.challenge=<n>` and
  expects the challenge back as plain text when the token is ours.
- Every POST carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`.
- A body is `{"object": "page" | "instagram", "entry": [{"id", "time", "changes": [{"field",
  "value"}], "messaging": [...]}]}`: `changes` carry feed and comment events, `messaging` carries
  Messenger and Instagram direct messages (Webhooks for Pages, Webhooks for Instagram, Messenger
  Platform webhook reference).

Each change and each messaging item becomes one WebhookEvent; kinds we do not know are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from tertulia.connectors.base import WebhookEvent, WebhookReply
from tertulia.connectors.meta.parsing import obj as as_object

SIGNATURE_HEADER = "x-hub-signature-256"
# Messaging items carry exactly one of these, which names the event (Messenger webhook events).
MESSAGING_KEYS = (
    "message",
    "reaction",
    "read",
    "delivery",
    "postback",
    "referral",
    "optin",
    "message_edit",
    "standby",
)


def challenge(query: Mapping[str, str], secret: str) -> WebhookReply | None:
    mode = query.get("hub.mode", "")
    token = query.get("hub.verify_token", "")
    answer = query.get("hub.challenge", "")
    if mode != "subscribe" or not secret or not token or not answer:
        return None
    if not hmac.compare_digest(token.encode("utf-8"), secret.encode("utf-8")):
        return None
    return WebhookReply(status=200, content_type="text/plain", body=answer)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    if not secret:
        return False
    sent = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
    if not sent:
        return False
    return hmac.compare_digest(sent.strip().lower().encode("utf-8"), signature(secret, body).encode("utf-8"))


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _text(value: Any) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _change_event(obj: str, entry: Mapping[str, Any], change: Mapping[str, Any]) -> WebhookEvent:
    field = _text(change.get("field")) or "unknown"
    value = as_object(change.get("value"))
    kind = field
    item_id = ""
    verb = _text(value.get("verb"))
    if field == "feed":
        # Page feed changes: item is comment, reaction, status, photo, video, share...
        kind = f"feed.{_text(value.get('item')) or 'unknown'}"
        item_id = _text(value.get("comment_id")) or _text(value.get("post_id"))
        if value.get("item") == "reaction":  # one person's reaction on one item
            item_id = (
                f"{item_id}:{_text((value.get('from') or {}).get('id'))}:{_text(value.get('reaction_type'))}"
            )
    else:  # Instagram: comments, live_comments, mentions (comment_id / media_id), story_insights...
        item_id = _text(value.get("id")) or _text(value.get("comment_id")) or _text(value.get("media_id"))
    if not item_id:
        item_id = _digest({"entry": entry.get("id"), "time": entry.get("time"), "change": change})
    event_id = f"{obj}:{kind}:{item_id}" + (f":{verb}" if verb else "")
    payload = {
        "object": obj,
        "entry": {"id": _text(entry.get("id")), "time": entry.get("time")},
        "change": dict(change),
    }
    return WebhookEvent(event_id=event_id, kind=kind, account_id=_text(entry.get("id")), payload=payload)


def _messaging_event(obj: str, entry: Mapping[str, Any], item: Mapping[str, Any]) -> WebhookEvent:
    name = next((key for key in MESSAGING_KEYS if key in item), "unknown")
    body = as_object(item.get(name))
    is_echo = name == "message" and body.get("is_echo") is True
    kind = "messaging.echo" if is_echo else f"messaging.{name}"
    item_id = _text(body.get("mid"))
    if not item_id or name != "message":
        # Reads, deliveries, reactions: who, about what, and when identify the event.
        item_id = _digest(
            {
                "sender": as_object(item.get("sender")).get("id"),
                "recipient": as_object(item.get("recipient")).get("id"),
                "timestamp": item.get("timestamp"),
                name: body,
            }
        )
    payload = {
        "object": obj,
        "entry": {"id": _text(entry.get("id")), "time": entry.get("time")},
        "messaging": dict(item),
    }
    return WebhookEvent(
        event_id=f"{obj}:{kind}:{item_id}", kind=kind, account_id=_text(entry.get("id")), payload=payload
    )


def parse(body: bytes) -> list[WebhookEvent]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("The body is not JSON.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entry", []), list):
        raise ValueError("The body is not a Meta webhook object.")
    obj = _text(data.get("object")) or "unknown"
    events: list[WebhookEvent] = []
    for entry in data.get("entry", []):
        if not isinstance(entry, dict):
            raise ValueError("A webhook entry is not an object.")
        for change in entry.get("changes") or []:
            if isinstance(change, dict):
                events.append(_change_event(obj, entry, change))
        for item in entry.get("messaging") or []:
            if isinstance(item, dict):
                events.append(_messaging_event(obj, entry, item))
        if not entry.get("changes") and not entry.get("messaging"):
            # Something we do not know (standby, a new product): keep it whole.
            events.append(
                WebhookEvent(
                    event_id=f"{obj}:entry:{_digest(entry)}",
                    kind=f"{obj}.entry",
                    account_id=_text(entry.get("id")),
                    payload={"object": obj, "entry": dict(entry)},
                )
            )
    return events
