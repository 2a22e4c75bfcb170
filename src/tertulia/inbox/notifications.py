"""Calling people in: a row per person (shown in the app) and a live nudge to their open pages."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from tertulia.core.models import Organization, User
from tertulia.core.permissions import brands_for
from tertulia.core.preview import preview
from tertulia.inbox.models import Conversation, Notification
from tertulia.live.publish import notify_organization

NOTIFICATION_CHARS = 500  # Notification.text's length


def notify(
    users: Iterable[User | None],
    kind: str,
    conversation: Conversation,
    text: str = "",
    *,
    skip: User | None = None,
) -> list[Notification]:
    """Notify each distinct person once about a conversation (never `skip`, the one who caused it)."""
    return notify_people(
        conversation.organization_id, users, kind, text, conversation=conversation, skip=skip
    )


def notify_people(
    organization_id: int,
    users: Iterable[User | None],
    kind: str,
    text: str = "",
    *,
    conversation: Conversation | None = None,
    url: str = "",
    skip: User | None = None,
) -> list[Notification]:
    """Notify each distinct person once (never `skip`); `url` says where to look."""
    seen: set[int] = set()
    rows = []
    # Whole when it fits (line breaks kept); else shortened, never inside an emoji.
    text = text if len(text) <= NOTIFICATION_CHARS else preview(text, NOTIFICATION_CHARS)
    for user in users:
        if user is None or not user.is_active or user.pk in seen or (skip is not None and user.pk == skip.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                organization_id=organization_id,
                user=user,
                kind=kind,
                conversation=conversation,
                text=text,
                # Only a path inside Tertulia ("//host" and "/\\host" would leave it).
                url=url[:300] if url.startswith("/") and url[1:2] not in ("/", "\\") else "",
            )
        )
    if rows:
        Notification.objects.bulk_create(rows)
        notify_organization(organization_id, "notifications")
    return rows


def notifications_of(user: User, organization: Organization) -> QuerySet[Notification]:
    """The person's notifications in `organization`, leaving out those about conversations of brands they
    no longer work in (a member whose access was narrowed to some brands)."""
    return Notification.objects.filter(user=user, organization=organization).filter(
        Q(conversation__isnull=True) | Q(conversation__brand__in=brands_for(user, organization))
    )
