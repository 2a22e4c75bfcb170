"""Handles: what a valid one looks like, and which ones a text mentions."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from tertulia.connectors.base import ContentRejected

HANDLE_RE = re.compile(r"^[a-z0-9_]{2,30}$")
# An @ not preceded by a word character or another @, so e-mail addresses
# (ana@example.com) are not read as mentions.
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{2,30})(?![A-Za-z0-9_])")


def normalize_handle(raw: str) -> str:
    """`" @Ana_B "` → `"ana_b"`; raise ContentRejected if it cannot be a sandbox handle."""
    handle = raw.strip().removeprefix("@").lower()
    if not HANDLE_RE.match(handle):
        raise ContentRejected(
            _(
                "“%(handle)s” is not a valid sandbox handle: use 2 to 30 lowercase letters, "
                "digits or underscores (a leading @ is optional)."
            )
            % {"handle": raw[:60]}
        )
    return handle


def mentioned_handles(text: str) -> list[str]:
    """Handles mentioned in `text`, lowercased, first occurrence order, without repeats."""
    seen: dict[str, None] = {}
    for match in MENTION_RE.finditer(text):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)
