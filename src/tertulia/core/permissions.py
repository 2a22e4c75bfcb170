"""Who may do what, by role, and where: in which brands and on which channels.

Three layers, each narrowing the one before (see docs/permissions.md):

1. **Role** (`ROLE_PERMISSIONS`): what a member may do in the organization.
2. **Brands**: a member with `Membership.all_brands=False` has their role only in the brands listed
   in `BrandAccess` (owners and administrators always have every brand). Such a member also loses the
   permissions that reach across every brand (`ORG_WIDE_PERMS`).
3. **Channels**: operating a channel (reading its inbox, replying, publishing, moderating) needs
   `Perm.OPERATE_CHANNELS`, the channel's brand, and a `ChannelOperator` grant on it (owners and
   administrators operate every channel).

Like NetBox's object permissions, data is fetched through querysets restricted by person and
action (`restrict`, `brands_for`, `operable_channels`): an object outside them is simply not found
(404), whether it belongs to another organization or to a brand the person may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet

from tertulia.core.models import (
    Brand,
    BrandAccess,
    Channel,
    ChannelOperator,
    Membership,
    Organization,
    Role,
    User,
)


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
    # Edit on-call rotations and their overrides (docs/team-operations.md).
    MANAGE_ROTATIONS = "manage_rotations"


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
            Perm.MANAGE_ROTATIONS,
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

# Roles that always have every brand and every channel of their organization.
FULL_ACCESS_ROLES = frozenset({Role.OWNER, Role.ADMIN})

# Permissions whose object is the whole organization, not a brand: a member limited to some brands
# never has them (the audit trail, for one, tells what happens in every brand).
ORG_WIDE_PERMS = frozenset({Perm.MANAGE_ORGANIZATION, Perm.MANAGE_MEMBERS, Perm.VIEW_AUDIT})

M = TypeVar("M", bound=Model)


def membership(user: User, organization: Organization) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return Membership.objects.filter(user=user, organization=organization, is_active=True).first()


def is_limited(member: Membership | None) -> bool:
    """Whether the member has their role only in some brands (never owners or administrators)."""
    return member is not None and not member.all_brands and member.role not in FULL_ACCESS_ROLES


def permissions_of(member: Membership | None) -> frozenset[Perm]:
    if member is None or not member.is_active:
        return frozenset()
    perms = ROLE_PERMISSIONS.get(member.role, frozenset())
    return perms - ORG_WIDE_PERMS if is_limited(member) else perms


def has_perm(user: User, organization: Organization, perm: Perm, brand: Brand | None = None) -> bool:
    """Whether `user` has `perm` in `organization` (and, given `brand`, in that brand)."""
    member = membership(user, organization)
    if perm not in permissions_of(member):
        return False
    return brand is None or _covers(member, brand)


def require(user: User, organization: Organization, perm: Perm, brand: Brand | None = None) -> None:
    if not has_perm(user, organization, perm, brand):
        raise PermissionDenied(perm.value)


def organizations_of(user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user, memberships__is_active=True).distinct()


# ---------------------------------------------------------------- brands


def brand_ids_of(member: Membership | None) -> list[int] | None:
    """The ids of the brands a member is limited to; None when they have every brand."""
    if member is None:
        return []
    if not is_limited(member):
        return None
    return list(BrandAccess.objects.filter(membership=member).values_list("brand_id", flat=True))


def _covers(member: Membership | None, brand: Brand) -> bool:
    if member is None or brand.organization_id != member.organization_id:
        return False
    if not is_limited(member):
        return True
    return BrandAccess.objects.filter(membership=member, brand=brand).exists()


def covers_all_brands(user: User, organization: Organization) -> bool:
    """Whether the person works in every brand of `organization` (needed to change organization-wide
    things: tags, listening sources, pauses of the whole organization, new brands)."""
    member = membership(user, organization)
    return member is not None and not is_limited(member)


def brands_for(user: User, organization: Organization, perm: Perm = Perm.VIEW) -> QuerySet[Brand]:
    """The brands of `organization` where `user` has `perm` (archived ones included)."""
    return restrict(Brand.objects.all(), user, organization, perm, brand_path="")


def may_access_brand(user: User, brand: Brand, perm: Perm = Perm.VIEW) -> bool:
    return has_perm(user, brand.organization, perm, brand)


def restrict(
    queryset: QuerySet[M],
    user: User,
    organization: Organization,
    perm: Perm = Perm.VIEW,
    *,
    brand_path: str = "brand",
    org_wide: bool = False,
) -> QuerySet[M]:
    """`queryset` narrowed to what `user` may see or do with `perm`: rows of `organization` whose brand
    (reached through `brand_path`; "" when the rows are brands) is one of the person's brands.

    `org_wide=True` also keeps rows without a brand (`brand_path` is null) that belong to the
    organization directly (`organization` field), such as a pause of the whole organization.
    Nothing at all without the permission, and nothing of any other organization.
    """
    member = membership(user, organization)
    if perm not in permissions_of(member):
        return queryset.none()
    prefix = f"{brand_path}__" if brand_path else ""
    allowed = Q(**{f"{prefix}organization_id": organization.pk})
    ids = brand_ids_of(member)
    if ids is not None:
        allowed &= Q(**{f"{prefix}pk__in": ids})
    if org_wide and brand_path:
        allowed |= Q(**{f"{brand_path}__isnull": True, "organization_id": organization.pk})
    return queryset.filter(allowed)


def brand_members(brand: Brand) -> QuerySet[Membership]:
    """Active memberships of people who work in `brand` (whatever their role)."""
    granted = BrandAccess.objects.filter(brand=brand).values("membership_id")
    return Membership.objects.filter(organization_id=brand.organization_id, is_active=True).filter(
        Q(all_brands=True) | Q(role__in=FULL_ACCESS_ROLES) | Q(pk__in=granted)
    )


def member_works_in(member: Membership, brand_id: int, limited_to: dict[int, set[int]] | None = None) -> bool:
    """Whether `member` works in the brand; `limited_to` (membership id → brand ids, from
    `brand_limits`) saves a query per member when checking many."""
    if not is_limited(member):
        return True
    if limited_to is not None:
        return brand_id in limited_to.get(member.pk, set())
    return BrandAccess.objects.filter(membership=member, brand_id=brand_id).exists()


def brand_limits(members: Sequence[Membership]) -> dict[int, set[int]]:
    """For the limited ones among `members`: membership id → the ids of their brands (one query)."""
    limited = [m.pk for m in members if is_limited(m)]
    found: dict[int, set[int]] = {pk: set() for pk in limited}
    for membership_id, brand_id in BrandAccess.objects.filter(membership_id__in=limited).values_list(
        "membership_id", "brand_id"
    ):
        found[membership_id].add(brand_id)
    return found


# ---------------------------------------------------------------- channels


def operable_channels(user: User, organization: Organization, channels: Sequence[Channel]) -> list[Channel]:
    """The channels among `channels` (all of `organization`) the person may operate, in one query or two."""
    member = membership(user, organization)
    if Perm.OPERATE_CHANNELS not in permissions_of(member):
        return []
    assert member is not None
    mine = [c for c in channels if c.organization_id == organization.pk]
    ids = brand_ids_of(member)
    if ids is not None:
        mine = [c for c in mine if c.brand_id in ids]
    if member.role in FULL_ACCESS_ROLES:
        return mine
    granted = set(
        ChannelOperator.objects.filter(user=user, channel__in=mine).values_list("channel_id", flat=True)
    )
    return [channel for channel in mine if channel.pk in granted]


def operable_channels_queryset(user: User, organization: Organization) -> QuerySet[Channel]:
    """The channels of `organization` the person may operate, as a queryset (for filters)."""
    member = membership(user, organization)
    found = restrict(Channel.objects.all(), user, organization, Perm.OPERATE_CHANNELS)
    if member is not None and member.role not in FULL_ACCESS_ROLES:
        found = found.filter(operator_grants__user=user)
    return found


def may_operate_channel(user: User, channel: Channel) -> bool:
    """Owners and admins operate every channel; others need the permission, the channel's brand and a
    grant on the channel."""
    return bool(operable_channels(user, channel.organization, [channel]))


def operators_of(channel: Channel) -> list[User]:
    """Who may operate `channel` today: owners, administrators, and granted people who work in its brand
    with a role that operates channels."""
    members = list(
        Membership.objects.filter(
            organization_id=channel.organization_id, is_active=True, user__is_active=True
        ).select_related("user")
    )
    limits = brand_limits(members)
    granted = set(channel.operator_grants.values_list("user_id", flat=True))
    return [
        m.user
        for m in members
        if Perm.OPERATE_CHANNELS in permissions_of(m)
        and member_works_in(m, channel.brand_id, limits)
        and (m.role in FULL_ACCESS_ROLES or m.user_id in granted)
    ]


# ---------------------------------------------------------------- routes

# The route walker (tests/security/test_route_walk.py) reads what every view declares here.
ACCESS_ATTRIBUTE = "tertulia_access"


class Access(StrEnum):
    """Who may reach a view that does not need a permission of the organization."""

    PUBLIC = "public"  # anyone, signed in or not (sign-in pages, health checks, webhooks)
    SIGNED_IN = "signed_in"  # any signed-in person, with or without an organization


V = TypeVar("V", bound=Callable[..., Any])


def declare(access: Access | Perm) -> Callable[[V], V]:
    """Mark a view with who may reach it (the `section()` decorator does this for sections).

    Every URL of the project must be marked one way or another: the route walker test refuses a
    route it cannot classify.
    """

    def mark(view: V) -> V:
        setattr(view, ACCESS_ATTRIBUTE, access)
        return view

    return mark
