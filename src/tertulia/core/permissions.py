"""Who may do what, by role.

Permissions are checked in the views and API endpoints (before an action is
called) against the person's membership of the current organization. Finer
grants per brand and per channel build on `may_operate_channel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from tertulia.core.models import Channel, ChannelOperator, Membership, Organization, Role, User


class Perm(StrEnum):
    VIEW = "view"  # see the organization's brands, channels and reports
    MANAGE_ORGANIZATION = "manage_organization"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_BRANDS = "manage_brands"
    MANAGE_CHANNELS = "manage_channels"
    OPERATE_CHANNELS = "operate_channels"
    VIEW_CONTACTS = "view_contacts"
    EDIT_CONTACTS = "edit_contacts"
    VIEW_AUDIT = "view_audit"
    RUN_SIMULATIONS = "run_simulations"
    # Hide, delete or block by hand (on channels the person operates); see docs/moderation.md.
    MODERATE = "moderate"
    # Approve someone else's delete or block of a complaint or an important author (never one's own).
    APPROVE_MODERATION = "approve_moderation"
    # Write posts and send them for review (contributors from other departments stop here).
    PROPOSE_POSTS = "propose_posts"
    # Schedule and publish approved posts on channels the person operates.
    PUBLISH_POSTS = "publish_posts"
    # Decide on posts in review when a workflow step names the person's role or the person.
    APPROVE_POSTS = "approve_posts"
    # Edit approval workflows and queue slots; pause and resume publishing.
    MANAGE_PUBLISHING = "manage_publishing"
    # Write listening queries, alerts and sources; run backtests. (Seeing what listening found is VIEW.)
    MANAGE_LISTENING = "manage_listening"


_ALL = frozenset(Perm)
ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL,
    Role.BRAND_MANAGER: frozenset(
        {
            Perm.VIEW,
            Perm.MANAGE_BRANDS,
            Perm.MANAGE_CHANNELS,
            Perm.OPERATE_CHANNELS,
            Perm.VIEW_CONTACTS,
            Perm.EDIT_CONTACTS,
            Perm.VIEW_AUDIT,
            Perm.RUN_SIMULATIONS,
            Perm.MODERATE,
            Perm.APPROVE_MODERATION,
            Perm.PROPOSE_POSTS,
            Perm.PUBLISH_POSTS,
            Perm.APPROVE_POSTS,
            Perm.MANAGE_PUBLISHING,
            Perm.MANAGE_LISTENING,
        }
    ),
    Role.COMMUNITY_MANAGER: frozenset(
        {
            Perm.VIEW,
            Perm.OPERATE_CHANNELS,
            Perm.VIEW_CONTACTS,
            Perm.EDIT_CONTACTS,
            Perm.MODERATE,
            Perm.PROPOSE_POSTS,
            Perm.PUBLISH_POSTS,
            Perm.APPROVE_POSTS,
            Perm.MANAGE_LISTENING,
        }
    ),
    # Analysts build the listening queries they report on.
    Role.ANALYST: frozenset({Perm.VIEW, Perm.VIEW_CONTACTS, Perm.MANAGE_LISTENING}),
    Role.APPROVER: frozenset({Perm.VIEW, Perm.VIEW_CONTACTS, Perm.APPROVE_POSTS}),
    # Seed 003's spokes: people across the company propose content; the hub publishes it.
    Role.CONTRIBUTOR: frozenset({Perm.VIEW, Perm.PROPOSE_POSTS}),
}


def membership(user: User, organization: Organization) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return Membership.objects.filter(user=user, organization=organization, is_active=True).first()


def permissions_of(member: Membership | None) -> frozenset[Perm]:
    if member is None or not member.is_active:
        return frozenset()
    return ROLE_PERMISSIONS.get(member.role, frozenset())


def has_perm(user: User, organization: Organization, perm: Perm) -> bool:
    return perm in permissions_of(membership(user, organization))


def require(user: User, organization: Organization, perm: Perm) -> None:
    if not has_perm(user, organization, perm):
        raise PermissionDenied(perm.value)


def organizations_of(user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user, memberships__is_active=True).distinct()


def operable_channels(user: User, organization: Organization, channels: Sequence[Channel]) -> list[Channel]:
    """The channels among `channels` (all of `organization`) the person may operate, in one query."""
    member = membership(user, organization)
    if Perm.OPERATE_CHANNELS not in permissions_of(member):
        return []
    if member is not None and member.role in {Role.OWNER, Role.ADMIN}:
        return list(channels)
    granted = set(
        ChannelOperator.objects.filter(user=user, channel__in=channels).values_list("channel_id", flat=True)
    )
    return [channel for channel in channels if channel.pk in granted]


def may_operate_channel(user: User, channel: Channel) -> bool:
    """Owners and admins operate every channel; others need the permission and a grant on the channel."""
    member = membership(user, channel.organization)
    perms = permissions_of(member)
    if Perm.OPERATE_CHANNELS not in perms:
        return False
    if member is not None and member.role in {Role.OWNER, Role.ADMIN}:
        return True
    return channel.operator_grants.filter(user=user).exists()
