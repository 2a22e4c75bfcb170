"""Translated names for values that come from code, not the database."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tertulia.connectors.base import Capability

CAPABILITY_LABELS: dict[str, Promise] = {
    Capability.PUBLISH_TEXT: _("publish text"),
    Capability.PUBLISH_IMAGES: _("publish images"),
    Capability.ALT_TEXT: _("alt text"),
    Capability.PUBLISH_VIDEO: _("publish video"),
    Capability.THREADS: _("threads"),
    Capability.QUOTE: _("quote"),
    Capability.REPLY: _("reply"),
    Capability.DIRECT_MESSAGES: _("send direct messages"),
    Capability.READ_MENTIONS: _("read mentions"),
    Capability.READ_REPLIES: _("read replies"),
    Capability.READ_QUOTES: _("read quotes"),
    Capability.READ_COMMENTS: _("read comments"),
    Capability.READ_DIRECT_MESSAGES: _("read direct messages"),
    Capability.HIDE: _("hide"),
    Capability.DELETE: _("delete"),
    Capability.BLOCK: _("block"),
    Capability.MUTE: _("mute"),
    Capability.POST_METRICS: _("post metrics"),
    Capability.ACCOUNT_METRICS: _("account metrics"),
    Capability.WEBHOOKS: _("webhooks"),
    Capability.REFRESH_TOKENS: _("token refresh"),
    Capability.RATE_LIMIT_STATE: _("rate-limit state"),
    Capability.IDEMPOTENT_PUBLISH: _("idempotent publishing"),
    Capability.FIND_OWN_POST: _("finds its own posts"),
}


def capability_label(value: str) -> str | Promise:
    return CAPABILITY_LABELS.get(value, value)
