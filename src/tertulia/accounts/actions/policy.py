"""An organization's second-factor rule, switched on and off by its owners and administrators."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.accounts.enforcement import has_second_factor
from tertulia.accounts.models import SecurityPolicy
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization
from tertulia.core.permissions import Perm, require


class OwnSecondFactorFirst(ValueError):
    """Whoever requires a second factor of everyone must have one already."""


def check_manager(actor: Actor, organization: Organization) -> None:
    """Only owners and administrators (manage_organization) change sign-in rules; the system may too."""
    if actor.user is not None:
        require(actor.user, organization, Perm.MANAGE_ORGANIZATION)


def policy_of(organization: Organization) -> SecurityPolicy:
    return SecurityPolicy.objects.filter(organization=organization).first() or SecurityPolicy(
        organization=organization
    )


@transaction.atomic
def set_second_factor_required(actor: Actor, organization: Organization, required: bool) -> SecurityPolicy:
    """Switch the rule; audited as `security.second_factor_policy` when it changes."""
    check_manager(actor, organization)
    if required and actor.user is not None and not has_second_factor(actor.user):
        raise OwnSecondFactorFirst(
            _("Set up a second factor for yourself first: you would be asked for one straight away.")
        )
    policy, _created = SecurityPolicy.objects.select_for_update().get_or_create(organization=organization)
    if policy.require_second_factor != required:
        before = policy.require_second_factor
        policy.require_second_factor = required
        policy.save(update_fields=["require_second_factor", "updated_at"])
        record(
            actor,
            organization,
            "security.second_factor_policy",
            organization,
            {"require_second_factor": [before, required]},
        )
    return policy
