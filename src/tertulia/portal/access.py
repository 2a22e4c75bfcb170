"""Who may do what in the portal (docs/contributor-portal.md#who-may)."""

from __future__ import annotations

from django.db.models import QuerySet

from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import (
    Perm,
    brand_limits,
    brand_members,
    brands_for,
    has_perm,
    member_works_in,
    permissions_of,
    restrict,
)
from tertulia.portal.models import Contribution, Guideline

# The social team of a brand: whoever publishes or operates its channels.
TRIAGE_PERMS = (Perm.PUBLISH_POSTS, Perm.OPERATE_CHANNELS)


def may_contribute(user: User, brand: Brand) -> bool:
    """Every member who may see the brand (seed 003: everyone is a spoke)."""
    return has_perm(user, brand.organization, Perm.VIEW, brand)


def may_triage(user: User, brand: Brand) -> bool:
    return any(has_perm(user, brand.organization, perm, brand) for perm in TRIAGE_PERMS)


def may_edit_guidelines(user: User, brand: Brand) -> bool:
    return has_perm(user, brand.organization, Perm.MANAGE_BRANDS, brand)


def triage_brands(user: User, organization: Organization) -> QuerySet[Brand]:
    found = brands_for(user, organization, TRIAGE_PERMS[0]) | brands_for(user, organization, TRIAGE_PERMS[1])
    return found.distinct()


def triage_queue(user: User, organization: Organization) -> QuerySet[Contribution]:
    """The contributions of the brands where the person is in the social team."""
    return Contribution.objects.filter(
        organization=organization, brand__in=triage_brands(user, organization)
    ).select_related("brand", "author", "decided_by", "post", "image", "conversation")


def contributions_of(user: User, organization: Organization) -> QuerySet[Contribution]:
    """What the person sent, in the brands they may still see."""
    return restrict(Contribution.objects.filter(author=user), user, organization, Perm.VIEW).select_related(
        "brand", "decided_by", "post"
    )


def guidelines_for(user: User, organization: Organization) -> QuerySet[Guideline]:
    return restrict(Guideline.objects.all(), user, organization, Perm.VIEW).select_related("brand", "owner")


def team_of(brand: Brand) -> list[User]:
    """Who hears of an urgent flag: the brand's escalation person (inbox settings) and the people who
    may operate or publish on the brand's channels."""
    from tertulia.inbox.actions.settings import may_receive_escalations
    from tertulia.inbox.models import InboxSettings

    people: list[User] = []
    settings = InboxSettings.objects.filter(brand=brand).select_related("escalate_to").first()
    escalate_to = settings.escalate_to if settings is not None else None
    if escalate_to is not None and may_receive_escalations(escalate_to, brand):
        people.append(escalate_to)
    members: list[Membership] = list(brand_members(brand).filter(user__is_active=True).select_related("user"))
    limits = brand_limits(members)
    for member in members:
        perms = permissions_of(member)
        if any(perm in perms for perm in TRIAGE_PERMS) and member_works_in(member, brand.pk, limits):
            people.append(member.user)
    return people
