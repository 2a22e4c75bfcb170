"""Which organization and brand a request works on.

The choice lives in the session but is re-checked against the person's
active memberships on every request, so a removed member loses access at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import Perm, permissions_of

SESSION_ORG = "tertulia_org_id"
SESSION_BRAND = "tertulia_brand_id"


@dataclass
class Tenant:
    organization: Organization | None = None
    membership: Membership | None = None
    brand: Brand | None = None

    @property
    def perms(self) -> frozenset[Perm]:
        return permissions_of(self.membership)

    def can(self, perm: Perm) -> bool:
        return perm in self.perms


def resolve_tenant(request: HttpRequest) -> Tenant:
    tenant = Tenant()
    request.tenant = tenant  # type: ignore[attr-defined]  # per-request attribute
    if not request.user.is_authenticated:
        return tenant
    members = Membership.objects.filter(user=request.user, is_active=True).select_related("organization")
    wanted = request.session.get(SESSION_ORG)
    member = members.filter(organization_id=wanted).first() if wanted else None
    member = member or members.order_by("organization__name").first()
    if member is None:
        return tenant
    tenant.membership = member
    tenant.organization = member.organization
    brands = Brand.objects.filter(organization=member.organization, is_archived=False)
    wanted_brand = request.session.get(SESSION_BRAND)
    brand = brands.filter(pk=wanted_brand).first() if wanted_brand else None
    # Without a choice yet, the oldest brand: usually the organization's main one.
    tenant.brand = brand or brands.order_by("pk").first()
    return tenant


def signed_in_user(request: HttpRequest) -> User:
    """The person behind a request that passed `login_required`."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def get_tenant(request: HttpRequest) -> Tenant:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        tenant = resolve_tenant(request)
    return tenant
