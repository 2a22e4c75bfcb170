from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify

from tertulia.core.actions.audit import apply_changes, record, snapshot
from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Organization, Role, User
from tertulia.live.publish import notify_organization


def unique_org_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organization(actor: Actor, name: str, owner: User) -> Organization:
    org = Organization.objects.create(name=name, slug=unique_org_slug(name))
    record(actor, org, "organization.create", org, snapshot(org, ["name", "slug"]))
    add_member(actor, org, owner, Role.OWNER)
    return org


@transaction.atomic
def add_member(actor: Actor, organization: Organization, user: User, role: str) -> Membership:
    member, created = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": role}
    )
    if created:
        record(actor, organization, "member.add", member, {"user": [None, user.email], "role": [None, role]})
    else:
        changes = apply_changes(member, {"role": role, "is_active": True})
        if changes:
            member.save()
            record(actor, organization, "member.update", member, changes)
    notify_organization(organization.pk, "team")
    return member


class LastOwnerError(ValueError):
    """An organization must keep at least one active owner."""


class OwnerOnly(PermissionDenied):
    """Only an owner may make someone an owner, or change or remove an owner."""


def _check_owner_rule(actor: Actor, member: Membership, new_role: str | None = None) -> None:
    touches_owner = member.role == Role.OWNER or new_role == Role.OWNER
    if not touches_owner or actor.user is None:  # system and command-line actors are trusted
        return
    acting = Membership.objects.filter(
        organization_id=member.organization_id, user=actor.user, is_active=True
    ).first()
    if acting is None or acting.role != Role.OWNER:
        raise OwnerOnly


def _is_last_owner(member: Membership) -> bool:
    if member.role != Role.OWNER or not member.is_active:
        return False
    others = Membership.objects.filter(organization=member.organization, role=Role.OWNER, is_active=True)
    return not others.exclude(pk=member.pk).exists()


@transaction.atomic
def change_member_role(actor: Actor, member: Membership, role: str) -> Membership:
    _check_owner_rule(actor, member, role)
    if role != Role.OWNER and _is_last_owner(member):
        raise LastOwnerError
    changes = apply_changes(member, {"role": role})
    if changes:
        member.save(update_fields=["role"])
        record(actor, member.organization, "member.update", member, changes)
        notify_organization(member.organization_id, "team")
    return member


@transaction.atomic
def deactivate_member(actor: Actor, member: Membership) -> Membership:
    _check_owner_rule(actor, member)
    if _is_last_owner(member):
        raise LastOwnerError
    changes = apply_changes(member, {"is_active": False})
    if changes:
        member.save(update_fields=["is_active"])
        record(actor, member.organization, "member.deactivate", member, changes)
        notify_organization(member.organization_id, "team")
    return member


@transaction.atomic
def reactivate_member(actor: Actor, member: Membership) -> Membership:
    _check_owner_rule(actor, member)
    changes = apply_changes(member, {"is_active": True})
    if changes:
        member.save(update_fields=["is_active"])
        record(actor, member.organization, "member.reactivate", member, changes)
        notify_organization(member.organization_id, "team")
    return member
