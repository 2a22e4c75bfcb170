"""Audit entries about a person's sign-in, recorded in each organization they belong to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Organization, User

if TYPE_CHECKING:
    from django.http import HttpRequest


def person_organizations(user: User) -> list[Organization]:
    """Organizations where `user` is a member (active or not: a deactivated member's trail matters too)."""
    ids = Membership.objects.filter(user_id=user.pk).values_list("organization_id", flat=True)
    return list(Organization.objects.filter(pk__in=ids).order_by("pk"))


def audit_person(actor: Actor, user: User, action: str, changes: Mapping[str, Any] | None = None) -> None:
    """One audit entry per organization of `user` (one without organization if they have none)."""
    organizations: list[Organization | None] = list(person_organizations(user)) or [None]
    for organization in organizations:
        record(actor, organization, action, user, changes)


def audit_failed_sign_in(
    request: HttpRequest,
    email: str,
    reason: str,
    *,
    organization: Organization | None = None,
    detail: str = "",
) -> None:
    """`signin.failed`: the address tried (never the password), why, from where.

    Recorded in the organizations of the account with that address (so their owners see attempts on
    their people), in `organization` when given, and without organization otherwise.
    """
    address = email.strip()[:254]
    actor = Actor.from_request(request, label=f"sign-in attempt: {address or 'unknown'}")
    changes: dict[str, Any] = {"email": [None, address], "reason": [None, reason]}
    if detail:
        changes["detail"] = [None, detail[:500]]
    user = User.objects.filter(email__iexact=address).first() if address else None
    organizations: list[Organization | None] = []
    if organization is not None:
        organizations.append(organization)
    if user is not None:
        organizations += [o for o in person_organizations(user) if o not in organizations]
    for org in organizations or [None]:
        record(actor, org, "signin.failed", user, changes, object_type="" if user else "core.user")
