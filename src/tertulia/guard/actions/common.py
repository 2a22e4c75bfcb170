"""What the guard's actions share: their refusals, who may decide on a hold, telling people."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.utils.translation import override

from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, ChannelOperator, Membership, Organization, Role, User
from tertulia.core.permissions import Perm, has_perm, operable_channels, permissions_of
from tertulia.guard.models import GuardHold, HoldCause, ItemKind


class GuardRefused(ValueError):
    """The guard action cannot be done as asked; the message says why, in the person's language."""


class NotPermitted(GuardRefused):
    """The person may not do this (their role, their channels, or releasing what they sent)."""


class AlreadyDecided(GuardRefused):
    """Someone decided this a moment ago, or the incident is closed."""


def person(actor: Actor, message: str) -> User:
    if actor.user is None:
        raise NotPermitted(message)
    return actor.user


def decision_perm(kind: str) -> Perm:
    """Releasing a post is publishing it; releasing a reply is answering on the channel."""
    return Perm.PUBLISH_POSTS if kind == ItemKind.POST else Perm.OPERATE_CHANNELS


def may_decide(user: User, hold: GuardHold, channels: Sequence[Channel] | None = None) -> bool:
    """The permission to send what is held, on every one of its channels (never enough alone to
    release one's own: see tertulia.guard.actions.holds.release). What crisis mode held is decided by
    the brand's crisis approvers (tertulia.crisis.approval)."""
    if hold.cause == HoldCause.CRISIS:
        from tertulia.crisis.approval import is_crisis_approver

        return is_crisis_approver(user, hold.brand)
    if not has_perm(user, hold.organization, decision_perm(hold.kind)):
        return False
    channels = list(hold.channels.all()) if channels is None else list(channels)
    return len(operable_channels(user, hold.organization, channels)) == len(channels)


def people_who_operate(
    organization: Organization, channels: Sequence[Channel], perm: Perm, *, besides: User | None = None
) -> list[User]:
    """Active members with `perm` who operate every one of `channels` (never `besides`)."""
    granted: dict[int, set[int]] = {}
    for user_id, channel_id in ChannelOperator.objects.filter(channel__in=list(channels)).values_list(
        "user_id", "channel_id"
    ):
        granted.setdefault(user_id, set()).add(channel_id)
    wanted = {channel.pk for channel in channels}
    members = Membership.objects.filter(
        organization=organization, is_active=True, user__is_active=True
    ).select_related("user")
    found = []
    for member in members:
        if besides is not None and member.user_id == besides.pk:
            continue
        if perm not in permissions_of(member):
            continue
        full = member.role in {Role.OWNER, Role.ADMIN}
        if not full and not wanted <= granted.get(member.user_id, set()):
            continue
        # The complete check (brand limits included) for the few who may qualify.
        if len(operable_channels(member.user, organization, list(channels))) == len(channels):
            found.append(member.user)
    return found


def owners_of(organization: Organization) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            organization=organization, is_active=True, user__is_active=True, role=Role.OWNER
        ).select_related("user")
    ]


def notify_each(
    organization_id: int,
    people: Iterable[User | None],
    kind: str,
    text: Callable[[], str],
    *,
    url: str = "",
    skip: User | None = None,
) -> int:
    """A notification per person, worded in each one's language."""
    from tertulia.inbox.notifications import notify_people

    by_language: dict[str, list[User]] = {}
    seen: set[int] = set()
    for user in people:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        by_language.setdefault(user.language or "", []).append(user)
    sent = 0
    for language, group in by_language.items():
        with override(language or None):
            sent += len(notify_people(organization_id, group, kind, text(), url=url, skip=skip))
    return sent
