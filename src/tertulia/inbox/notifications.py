"""Calling people in: a row per person (shown in the app) and a live nudge to their open pages."""

from __future__ import annotations

from collections.abc import Iterable

from tertulia.core.models import User
from tertulia.inbox.models import Conversation, Notification
from tertulia.live.publish import notify_organization


def notify(
    users: Iterable[User | None],
    kind: str,
    conversation: Conversation,
    text: str = "",
    *,
    skip: User | None = None,
) -> list[Notification]:
    """Notify each distinct person once (never `skip`, the one who caused it)."""
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or not user.is_active or user.pk in seen or (skip is not None and user.pk == skip.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                organization_id=conversation.organization_id,
                user=user,
                kind=kind,
                conversation=conversation,
                text=text[:500],
            )
        )
    if rows:
        Notification.objects.bulk_create(rows)
        notify_organization(conversation.organization_id, "notifications")
    return rows
