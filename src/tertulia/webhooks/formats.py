"""What the body of a webhook request looks like, per endpoint format.

- generic: the event envelope as JSON, `{"id", "type", "created_at", "organization": {"id",
  "name"}, "data": {...}}`, compact, UTF-8;
- slack and mattermost: `{"text": "..."}`, what both chat tools' incoming webhooks accept: one
  line naming the organization and the event, the emitter's summary, and a link when there is one.
  Slack reads `&`, `<` and `>` as markup, Mattermost reads Markdown and notifies on `@channel`:
  each gets its own escaping (Mattermost's `@` becomes the fullwidth at sign, U+FF20), so a hostile summary (a
  brand name, a post's text) shows as written and never as a mention, a link or formatting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.utils import translation

from tertulia.webhooks import events
from tertulia.webhooks.models import Format

MAX_CHAT_TEXT = 3000  # well under both tools' limits (Slack 40,000; Mattermost 16,383)
_MARKDOWN_SPECIAL = "\\`*_{}[]()#+-.!|~><:"


def _slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markdown(text: str) -> str:
    # "@" becomes the fullwidth at sign (U+FF20): Mattermost notifies on @channel, @all and @name.
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in text).replace("@", "\uff20")


def _link(value: object) -> str:
    url = value.strip() if isinstance(value, str) else ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in " <>|()[]\n\r\t"):
        return ""
    return url


def _one_line(value: object, limit: int) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chat_text(format_name: str, envelope: Mapping[str, Any], language: str) -> str:
    data = envelope.get("data") or {}
    organization = (envelope.get("organization") or {}).get("name", "")
    with translation.override(language):
        try:
            label = str(events.get(str(envelope.get("type", ""))).label)
        except ValueError:
            label = str(envelope.get("type", ""))
    summary = _one_line(data.get("summary", "") if isinstance(data, Mapping) else "", MAX_CHAT_TEXT // 2)
    link = _link(data.get("url") if isinstance(data, Mapping) else "")
    escape = _slack if format_name == Format.SLACK else _markdown
    head = f"Tertulia · {escape(_one_line(organization, 120))} · {escape(label)}"
    bold = f"*{head}*" if format_name == Format.SLACK else f"**{head}**"
    lines = [bold]
    if summary:
        lines.append(escape(summary))
    if link:
        lines.append(f"<{link}>")  # an autolink in both tools
    return "\n".join(lines)[:MAX_CHAT_TEXT]


def body(format_name: str, envelope: Mapping[str, Any], language: str = "en") -> bytes:
    if format_name in (Format.SLACK, Format.MATTERMOST):
        payload: Any = {"text": chat_text(format_name, envelope, language)}
    else:
        payload = envelope
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
