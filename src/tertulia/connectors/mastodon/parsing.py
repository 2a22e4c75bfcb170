"""Mastodon payloads (Status, Notification, Conversation, Account) into Tertulia's types.

Mastodon sends post text as HTML; Tertulia keeps plain text (the raw payload
stays in `InboundItem.raw` for anyone who needs the markup).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from tertulia.connectors.base import InboundItem, InboundKind, PublishedPost, RemoteAuthor
from tertulia.connectors.mastodon.client import parse_time

# Notification types that reach the inbox; everything else (favourites, follows...) is analytics.
INBOUND_NOTIFICATION_TYPES = ("mention", "quote")

_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@(\w+)@[\w.-]+\w")
URL_LENGTH = 23  # Mastodon counts every link as 23 characters


def html_to_text(content: str) -> str:
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content))).strip()


def status_length(text: str) -> int:
    """Length as Mastodon counts it: links count 23, remote mentions only by their username."""
    text = _URL.sub("x" * URL_LENGTH, text)
    text = _MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(text)


def author_of(account: Mapping[str, Any]) -> RemoteAuthor:
    return RemoteAuthor(
        remote_id=str(account["id"]),
        handle=str(account["acct"]),
        display_name=str(account.get("display_name") or ""),
        followers_count=int(account.get("followers_count") or 0),
        profile_url=str(account.get("url") or ""),
    )


def dm_conversation_key(status: Mapping[str, Any]) -> str:
    """Everyone in a direct conversation: the same key whichever side wrote."""
    ids = {str(status["account"]["id"])} | {str(m["id"]) for m in status.get("mentions") or []}
    return "dm:" + ",".join(sorted(ids, key=lambda i: (len(i), i)))


def item_from_status(status: Mapping[str, Any], kind: InboundKind, raw: Mapping[str, Any]) -> InboundItem:
    if status.get("visibility") == "direct":
        kind = InboundKind.DIRECT_MESSAGE
    elif kind is InboundKind.MENTION and status.get("in_reply_to_id"):
        kind = InboundKind.REPLY
    in_reply_to = status.get("in_reply_to_id")
    if kind is InboundKind.DIRECT_MESSAGE:
        conversation = dm_conversation_key(status)
    else:
        # Mastodon does not say which post started a thread; the post answered is the nearest anchor.
        conversation = f"status:{in_reply_to or status['id']}"
    return InboundItem(
        remote_id=str(status["id"]),
        kind=kind,
        author=author_of(status["account"]),
        text=html_to_text(str(status.get("content") or "")),
        created_at=parse_time(str(status["created_at"])),
        url=str(status.get("url") or status.get("uri") or ""),
        in_reply_to=str(in_reply_to) if in_reply_to else None,
        conversation_key=conversation,
        language=status.get("language") or None,
        raw=raw,
    )


def item_from_notification(notification: Mapping[str, Any]) -> InboundItem | None:
    """A mention, reply, quote or DM; None for notifications that carry no status."""
    status = notification.get("status")
    if notification.get("type") not in INBOUND_NOTIFICATION_TYPES or not status:
        return None
    kind = InboundKind.QUOTE if notification["type"] == "quote" else InboundKind.MENTION
    return item_from_status(status, kind, raw=notification)


def item_from_conversation(conversation: Mapping[str, Any]) -> InboundItem | None:
    status = conversation.get("last_status")
    if not status:
        return None
    return item_from_status(status, InboundKind.DIRECT_MESSAGE, raw=conversation)


def published(status: Mapping[str, Any]) -> PublishedPost:
    return PublishedPost(
        remote_id=str(status["id"]),
        url=str(status.get("url") or status.get("uri") or ""),
        created_at=parse_time(str(status["created_at"])),
    )


def id_key(remote_id: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings of varying length: compare by length, then text."""
    return (len(remote_id), remote_id)
