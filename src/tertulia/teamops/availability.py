"""Availability for inbox assignment: time off and working hours narrow who gets new conversations.

- Someone on time off is never given work.
- Someone outside their working hours (when they set any) is given work only when they are on call
  for the brand and nobody within their hours has room.
- The manual "available" toggle (inbox AgentStatus) is applied before this, as always.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from django.utils import timezone

from tertulia.core.models import Channel, User
from tertulia.inbox.businesshours import BusinessHours, is_open
from tertulia.teamops.models import TimeOff, WorkingHours


class HasUser(Protocol):
    @property
    def user(self) -> User: ...

    @property
    def has_room(self) -> bool: ...


C = TypeVar("C", bound=HasUser)


def away_now(organization_id: int, user_ids: Sequence[int], at: datetime) -> set[int]:
    """Who among `user_ids` is on time off at `at`."""
    return set(
        TimeOff.objects.filter(
            membership__organization_id=organization_id,
            membership__user_id__in=list(user_ids),
            starts_at__lte=at,
            ends_at__gt=at,
        ).values_list("membership__user_id", flat=True)
    )


def off_hours_now(organization_id: int, user_ids: Sequence[int], at: datetime) -> set[int]:
    """Who among `user_ids` set working hours and is outside them at `at`."""
    found = set()
    for hours in WorkingHours.objects.filter(
        membership__organization_id=organization_id, membership__user_id__in=list(user_ids)
    ).select_related("membership"):
        if not hours.week:
            continue  # no hours set: works whenever they are available
        try:
            schedule = BusinessHours.from_dict({"timezone": hours.timezone, "week": hours.week})
        except ValueError:
            continue  # unreadable (should not happen: validated on save): do not lock them out
        if not is_open(schedule, at):
            found.add(hours.membership.user_id)
    return found


def narrow_candidates(channel: Channel, people: Sequence[C], at: datetime | None = None) -> list[C]:
    """`people` (inbox assignment candidates) without those on time off or outside their hours; the
    brand's on-call people outside their hours come back when nobody else has room."""
    if not people:
        return []
    at = at or timezone.now()
    ids = [c.user.pk for c in people]
    away = away_now(channel.organization_id, ids, at)
    off_hours = off_hours_now(channel.organization_id, ids, at)
    working = [c for c in people if c.user.pk not in away and c.user.pk not in off_hours]
    if any(c.has_room for c in working):
        return working
    resting = [c for c in people if c.user.pk not in away and c.user.pk in off_hours]
    if not resting:
        return working
    from tertulia.teamops.oncall import on_call

    paged = {user.pk for user in on_call(channel.brand, at)}
    return working + [c for c in resting if c.user.pk in paged]
