"""Auditing the use of a channel's credentials (docs/audit.md, "Credential use").

Every time a channel's secrets are decrypted for a connector call, `record_use` decides whether the
audit trail gets a `credential.use` entry (the channel, the purpose, and what it was for):

- **On behalf of a person** (publishing a post, sending a reply, carrying out a person's moderation
  action): always, one entry per use, with the person as actor when known (via "system": the worker
  made the call).
- **The system on its own** (reading the inbox, refreshing tokens, account figures for a page,
  automatic moderation rules): the first use per channel, purpose and UTC day only, so that polling
  every few seconds does not flood the trail; `Credential.last_used_at` keeps the latest use to the
  minute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Channel

ACTION = "credential.use"

PUBLISH = "publish"
REPLY = "reply"
MODERATE = "moderate"
POLL = "poll"
REFRESH = "refresh"
METRICS = "metrics"
AUTOMATIC_MODERATION = "automatic_moderation"
# Purposes that act for a person: every use is recorded.
EVERY_USE = frozenset({PUBLISH, REPLY, MODERATE})


def for_person(user: Any, purpose: str) -> Actor:
    """The actor of a use made by a worker for `user` (a User, or None if unknown or deleted)."""
    if user is None:
        return Actor.system(f"system: {purpose}")
    return Actor(user=user, via="system", label_override=f"{user.email} (worker: {purpose})"[:255])


def record_use(
    channel: Channel,
    purpose: str,
    actor: Actor | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Record this use if the policy says so; True if an entry was written."""
    purpose = (purpose or "use")[:40]
    changes = {"purpose": [None, purpose], **{k: [None, v] for k, v in (detail or {}).items()}}
    if purpose in EVERY_USE or (actor is not None and actor.user is not None):
        record(actor or Actor.system(f"system: {purpose}"), channel.organization, ACTION, channel, changes)
        return True
    now = now or timezone.now()
    day = now.astimezone(UTC).date()
    # A shared cache (Redis) answers for every process; the trail itself is the truth behind it.
    if not cache.add(f"audit:credential-use:{channel.pk}:{purpose}:{day.isoformat()}", 1, 26 * 3600):
        return False
    start = datetime.combine(day, time.min, tzinfo=UTC)
    already = AuditEntry.objects.filter(
        object_type="core.channel",
        object_id=str(channel.pk),
        action=ACTION,
        created_at__gte=start,
        changes__purpose__1=purpose,
    ).exists()
    if already:
        return False
    record(actor or Actor.system(f"system: {purpose}"), channel.organization, ACTION, channel, changes)
    return True
