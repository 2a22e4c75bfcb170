"""Who owns a conversation: by hand, or automatically (round robin, or fewest open conversations),
only ever among people who may operate the channel, are available and have room (capacity)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, ChannelOperator, Membership, Role, User
from tertulia.core.permissions import Perm, brand_limits, may_operate_channel, member_works_in, permissions_of
from tertulia.inbox.actions.common import ActionRefused, audit, changed
from tertulia.inbox.models import (
    AgentStatus,
    Assignment,
    Conversation,
    InboxSettings,
    NotificationKind,
    Status,
)
from tertulia.inbox.notifications import notify

logger = logging.getLogger(__name__)


@transaction.atomic
def assign(actor: Actor, conversation: Conversation, assignee: User | None) -> Conversation:
    """Give the conversation to `assignee` (None: nobody). They must be able to operate its channel."""
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).select_related("channel").get(pk=conversation.pk)
    )
    if assignee is not None and not may_operate_channel(assignee, conversation.channel):
        raise ActionRefused(_("%(name)s cannot operate this channel.") % {"name": assignee.get_short_name()})
    if conversation.assignee_id == (assignee.pk if assignee else None):
        return conversation
    old = conversation.assignee_id
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee", "updated_at"])
    audit(actor, conversation, "conversation.assign", {"assignee": [old, assignee.pk if assignee else None]})
    if assignee is not None:
        notify([assignee], NotificationKind.ASSIGNED, conversation, conversation.preview, skip=actor.user)
    changed(conversation)
    return conversation


@dataclass
class Candidate:
    user: User
    capacity: int  # 0: no limit
    open_conversations: int
    last_assigned: float

    @property
    def has_room(self) -> bool:
        return not self.capacity or self.open_conversations < self.capacity


def candidates(channel: Channel) -> list[Candidate]:
    """People who may operate `channel`, are active members and available, with their load; not those
    on time off, nor those outside their working hours unless on call and needed (teamops.availability).

    Owners and admins are only candidates on channels nobody was granted, so a team's work does
    not flow to the boss.
    """
    members = list(
        Membership.objects.filter(
            organization_id=channel.organization_id, is_active=True, user__is_active=True
        ).select_related("user")
    )
    granted = set(ChannelOperator.objects.filter(channel=channel).values_list("user_id", flat=True))
    limits = brand_limits(members)  # a grant on a channel outside a member's brands counts for nothing
    eligible = [
        m
        for m in members
        if Perm.OPERATE_CHANNELS in permissions_of(m)
        and member_works_in(m, channel.brand_id, limits)
        and (m.user_id in granted or (not granted and m.role in (Role.OWNER, Role.ADMIN)))
    ]
    statuses = {s.membership_id: s for s in AgentStatus.objects.filter(membership__in=eligible)}
    load = _open_counts([m.user_id for m in eligible])
    result = []
    for member in eligible:
        status = statuses.get(member.pk) or AgentStatus(membership=member)
        if status.available:
            last = status.last_assigned_at.timestamp() if status.last_assigned_at else 0.0
            result.append(Candidate(member.user, status.capacity, load[member.user_id], last))
    # Time off and working hours (teamops builds on the inbox, hence imported here): docs/team-operations.md.
    from tertulia.teamops.availability import narrow_candidates

    try:
        return narrow_candidates(channel, result)
    except Exception:  # inside ingest: a broken schedule must not stop messages being stored
        logger.exception("availability check failed for channel %s; assigning without it", channel.pk)
        return result


def _open_counts(user_ids: Sequence[int]) -> Counter[int]:
    rows = (
        Conversation.objects.filter(assignee_id__in=user_ids, status__in=(Status.OPEN, Status.PENDING))
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    return Counter({row["assignee_id"]: row["n"] for row in rows})


def choose(people: Sequence[Candidate], mode: str) -> Candidate | None:
    """Round robin: whoever was given work longest ago. Balanced: whoever has the fewest open."""
    with_room = [c for c in people if c.has_room]
    if not with_room:
        return None
    if mode == Assignment.ROUND_ROBIN:
        return min(with_room, key=lambda c: (c.last_assigned, c.user.pk))
    return min(with_room, key=lambda c: (c.open_conversations, c.last_assigned, c.user.pk))


def auto_assign(conversations: Sequence[Conversation]) -> int:
    """Give unassigned open conversations an owner, by their brand's assignment mode. Returns how many.

    Called by the router inside the ingest transaction, so a conversation is never seen unowned by a
    brand that assigns automatically.
    """
    waiting = [c for c in conversations if c.assignee_id is None and c.status == Status.OPEN]
    if not waiting:
        return 0
    modes = dict(
        InboxSettings.objects.filter(brand_id__in={c.brand_id for c in waiting}).values_list(
            "brand_id", "assignment"
        )
    )
    assigned = 0
    pools: dict[int, list[Candidate]] = {}
    for conversation in waiting:
        mode = modes.get(conversation.brand_id, Assignment.MANUAL)
        if mode == Assignment.MANUAL:
            continue
        if conversation.channel_id not in pools:
            pools[conversation.channel_id] = candidates(conversation.channel)
        chosen = choose(pools[conversation.channel_id], mode)
        if chosen is None:
            continue  # everyone away or full: it waits in the unassigned view
        assign(Actor.system("automatic assignment"), conversation, chosen.user)
        conversation.assignee = chosen.user
        now = timezone.now()
        AgentStatus.objects.update_or_create(
            membership=Membership.objects.get(organization_id=conversation.organization_id, user=chosen.user),
            defaults={"last_assigned_at": now},
        )
        for pool in pools.values():  # the same person may be a candidate on several channels
            for candidate in pool:
                if candidate.user.pk == chosen.user.pk:
                    candidate.open_conversations += 1
                    candidate.last_assigned = now.timestamp()
        assigned += 1
    return assigned


MAX_CAPACITY = 10_000


def availability_of(membership: Membership) -> AgentStatus:
    """The member's status; the defaults (available, capacity 25) if they never set one."""
    return AgentStatus.objects.filter(membership=membership).first() or AgentStatus(membership=membership)


@transaction.atomic
def set_availability(
    actor: Actor, membership: Membership, *, available: bool, capacity: int | None = None
) -> AgentStatus:
    """Whether the member takes new conversations, and how many open ones at once (0: no limit)."""
    if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        raise ActionRefused(_("Capacity must be between 0 (no limit) and 10000."))
    status, _created = AgentStatus.objects.select_for_update().get_or_create(membership=membership)
    changes: dict[str, list[object]] = {}
    if status.available != available:
        changes["available"] = [status.available, available]
        status.available = available
    if capacity is not None and status.capacity != capacity:
        changes["capacity"] = [status.capacity, capacity]
        status.capacity = capacity
    if changes:
        status.save(update_fields=["available", "capacity"])
        record(actor, membership.organization, "inbox.availability", membership, changes)
    return status
