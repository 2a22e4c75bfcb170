"""Which organization and brand a request works on.

The choice lives in the session but is re-checked against the person's
active memberships on every request, so a removed member loses access at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import Perm, brand_ids_of, permissions_of, restrict

M = TypeVar("M", bound=Model)

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

    def restrict(self, queryset: QuerySet[M], perm: Perm = Perm.VIEW, **options: Any) -> QuerySet[M]:
        """`queryset` narrowed to this person's organization and brands (`permissions.restrict`)."""
        if self.organization is None or self.membership is None:
            return queryset.none()
        return restrict(queryset, self.membership.user, self.organization, perm, **options)

    def all_brands(self) -> QuerySet[Brand]:
        """Every brand this person works in, archived ones too (for filters on what the brands hold)."""
        return self.restrict(Brand.objects.all(), brand_path="")

    def brands(self) -> QuerySet[Brand]:
        """The organization's active brands this person works in: the ones they may switch among."""
        if self.organization is None or self.membership is None:
            return Brand.objects.none()
        found = Brand.objects.filter(organization=self.organization, is_archived=False)
        ids = brand_ids_of(self.membership)
        return found if ids is None else found.filter(pk__in=ids)


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
    # A member limited to some brands works only in those (docs/permissions.md).
    brands = tenant.brands()
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
