"""Where a member works: every brand or some of them, and which channels they operate.

See docs/permissions.md. Both are audited with the before and after; a member limited to some brands
loses their operator grants on channels of the other brands (a grant there would count for nothing,
and would make a channel look covered by someone who cannot work on it).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.channels import set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, BrandAccess, Channel, ChannelOperator, Membership, User
from tertulia.core.permissions import FULL_ACCESS_ROLES, brand_members
from tertulia.live.publish import notify_organization

ALL_BRANDS = "*"  # how the audit trail writes "every brand"


class GrantRefused(ValueError):
    """The grant cannot be given as asked; the message says why (safe to show)."""


def brand_access_of(member: Membership) -> list[Brand]:
    """The brands a limited member works in (empty for one who works in all of them)."""
    if member.all_brands or member.role in FULL_ACCESS_ROLES:
        return []
    return list(Brand.objects.filter(member_access__membership=member).order_by("name", "pk"))


def _described(member: Membership) -> str | list[str]:
    if member.all_brands or member.role in FULL_ACCESS_ROLES:
        return ALL_BRANDS
    return sorted(b.name for b in Brand.objects.filter(member_access__membership=member))


@transaction.atomic
def set_brand_access(
    actor: Actor, member: Membership, *, all_brands: bool, brands: Iterable[Brand] = ()
) -> Membership:
    """Let `member` work in every brand, or only in `brands` (of their organization)."""
    member = Membership.objects.select_for_update().select_related("user", "organization").get(pk=member.pk)
    wanted = {brand.pk: brand for brand in brands}
    if any(brand.organization_id != member.organization_id for brand in wanted.values()):
        raise GrantRefused(_("Choose brands of this organization."))
    if not all_brands and member.role in FULL_ACCESS_ROLES:
        raise GrantRefused(_("Owners and administrators always work in every brand."))
    if not all_brands and not wanted:
        raise GrantRefused(_("Choose at least one brand, or every brand."))
    before = _described(member)
    if all_brands:
        BrandAccess.objects.filter(membership=member).delete()
    else:
        BrandAccess.objects.filter(membership=member).exclude(brand_id__in=wanted).delete()
        have = set(BrandAccess.objects.filter(membership=member).values_list("brand_id", flat=True))
        BrandAccess.objects.bulk_create(
            [BrandAccess(membership=member, brand=wanted[pk]) for pk in sorted(set(wanted) - have)]
        )
    if member.all_brands != all_brands:
        member.all_brands = all_brands
        member.save(update_fields=["all_brands"])
    after = _described(member)
    dropped: list[str] = []
    if not all_brands:
        stale = ChannelOperator.objects.filter(
            user=member.user, channel__organization=member.organization
        ).exclude(channel__brand_id__in=wanted)
        dropped = sorted(f"@{grant.channel.handle}" for grant in stale.select_related("channel"))
        stale.delete()
    if before != after or dropped:
        changes: dict[str, list[object]] = {"brands": [before, after]}
        if dropped:
            changes["operates"] = [dropped, None]
        record(actor, member.organization, "member.brands", member, changes)
        notify_organization(member.organization_id, "team")
    return member


def set_operators(actor: Actor, channel: Channel, users: Iterable[User]) -> list[User]:
    """Who operates `channel`: active members who work in its brand (anyone else is refused by name)."""
    people = {user.pk: user for user in users}
    working = set(brand_members(channel.brand).filter(user_id__in=people).values_list("user_id", flat=True))
    outside = [people[pk] for pk in sorted(people) if pk not in working]
    if outside:
        raise GrantRefused(
            _("These people do not work in the brand of @%(handle)s: %(people)s.")
            % {"handle": channel.handle, "people": ", ".join(str(user) for user in outside)}
        )
    return set_channel_operators(actor, channel, people.values())
