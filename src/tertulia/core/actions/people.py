from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from tertulia.core.actions.audit import apply_changes, record
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import OwnerOnly, add_member
from tertulia.core.models import Membership, Organization, Role, User


@transaction.atomic
def set_language(actor: Actor, user: User, language: str) -> User:
    changes = apply_changes(user, {"language": language})
    if changes:
        user.full_clean(exclude=["password"])
        user.save(update_fields=["language"])
        record(actor, None, "person.language", user, changes)
    return user


class AlreadyMember(ValueError):
    """The person is already an active member of the organization."""


@dataclass(frozen=True)
class AddedPerson:
    member: Membership
    # Only for an account created just now: to hand to the person once, never stored.
    temporary_password: str | None


@transaction.atomic
def add_person(
    actor: Actor, organization: Organization, email: str, role: str, display_name: str = ""
) -> AddedPerson:
    """Add someone to the organization, creating their account if they have none.

    A new account gets a random temporary password, returned once so an administrator can
    pass it on; e-mail invitations replace this when governance lands. Only an owner may
    add an owner.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    validate_email(email)
    if role not in Role.values:
        raise ValidationError({"role": [f"{role!r} is not a role"]})
    if role == Role.OWNER and actor.user is not None:
        acting = Membership.objects.filter(organization=organization, user=actor.user, is_active=True).first()
        if acting is None or acting.role != Role.OWNER:
            raise OwnerOnly
    user = User.objects.filter(email=email).first()
    temporary = None
    if user is None:
        temporary = secrets.token_urlsafe(12)
        user = User(email=email, display_name=display_name.strip())
        user.set_password(temporary)
        user.full_clean()
        user.save()
        record(actor, organization, "person.create", user, {"email": [None, email]})
    elif Membership.objects.filter(organization=organization, user=user, is_active=True).exists():
        raise AlreadyMember(email)
    member = add_member(actor, organization, user, role)
    return AddedPerson(member=member, temporary_password=temporary)
