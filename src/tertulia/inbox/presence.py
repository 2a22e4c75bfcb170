"""Who has a conversation open, and who is typing an answer: the collision warning.

Kept in the cache (Redis when configured, shared by every process), never in the database:
presence is a few seconds' worth of truth. Each open page renews its mark every
HEARTBEAT_SECONDS; a mark not renewed within TTL_SECONDS is gone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

from tertulia.core.models import User
from tertulia.live.publish import notify_organization

HEARTBEAT_SECONDS = 15
TTL_SECONDS = 40
VIEWING = "viewing"
TYPING = "typing"


@dataclass(frozen=True)
class Presence:
    user_id: int
    name: str
    state: str  # viewing or typing


def _key(conversation_id: int) -> str:
    return f"inbox:presence:{conversation_id}"


def _read(conversation_id: int) -> dict[str, tuple[str, str, float]]:
    found = cache.get(_key(conversation_id))
    if not isinstance(found, dict):
        return {}
    now = time.time()
    return {k: v for k, v in found.items() if isinstance(v, tuple) and len(v) == 3 and v[2] > now}


def mark(organization_id: int, conversation_id: int, user: User, state: str) -> None:
    """Renew the person's mark; tell the others' pages when what they should show changes.

    Read-modify-write without a lock: two marks at the same instant may drop one, which the next
    heartbeat (seconds later) restores. A warning seconds late is harmless; a lock per heartbeat is not free.
    """
    marks = _read(conversation_id)
    before = marks.get(str(user.pk))
    name = user.display_name or user.email.split("@", 1)[0]
    marks[str(user.pk)] = (name, state if state in (VIEWING, TYPING) else VIEWING, time.time() + TTL_SECONDS)
    cache.set(_key(conversation_id), marks, TTL_SECONDS)
    if before is None or before[1] != marks[str(user.pk)][1]:
        notify_organization(organization_id, f"conversation-{conversation_id}")


def leave(organization_id: int, conversation_id: int, user: User) -> None:
    marks = _read(conversation_id)
    if marks.pop(str(user.pk), None) is not None:
        cache.set(_key(conversation_id), marks, TTL_SECONDS)
        notify_organization(organization_id, f"conversation-{conversation_id}")


def others(conversation_id: int, user: User) -> list[Presence]:
    """Everyone else with the conversation open, typists first."""
    marks = _read(conversation_id)
    people = [Presence(int(k), v[0], v[1]) for k, v in marks.items() if k != str(user.pk)]
    return sorted(people, key=lambda p: (p.state != TYPING, p.name))
