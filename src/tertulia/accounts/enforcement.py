"""Who must have a second factor, and who has one.

An organization may require one of its members (`SecurityPolicy.require_second_factor`). A person
who is an active member of at least one such organization and has no authenticator app or security
key is sent to set one up before anything else (web), and their API tokens for such an organization
are refused (`second_factor_required`). Recovery codes alone do not count: they back up a factor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tertulia.core.models import Organization

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from tertulia.core.models import User

# allauth.mfa Authenticator types that are a second factor on their own.
SECOND_FACTOR_TYPES = ("totp", "webauthn")


def has_second_factor(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return bool(Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTOR_TYPES).exists())


def organizations_requiring(user: User) -> QuerySet[Organization]:
    """Organizations where `user` is an active member and a second factor is required."""
    return Organization.objects.filter(
        memberships__user_id=user.pk,
        memberships__is_active=True,
        security_policy__require_second_factor=True,
    ).distinct()


def organization_requires(organization: Organization) -> bool:
    from tertulia.accounts.models import SecurityPolicy

    return SecurityPolicy.objects.filter(organization=organization, require_second_factor=True).exists()


def second_factor_missing(user: User) -> bool:
    """True when an organization of `user` requires a second factor and they have none."""
    return not has_second_factor(user) and organizations_requiring(user).exists()


def second_factor_missing_in(user: User, organization: Organization) -> bool:
    """The API's check: `organization` requires a second factor and `user` has none."""
    return organization_requires(organization) and not has_second_factor(user)
