"""Who sees and who manages which rotation.

Everyone with Perm.VIEW sees the rotations that cover their brands (every rotation when they work
in every brand). Managing needs Perm.MANAGE_ROTATIONS in every brand the rotation covers: a brand
manager limited to some brands manages only rotations limited to those brands.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from tertulia.core.models import Organization, User
from tertulia.core.permissions import Perm, brand_ids_of, membership, permissions_of
from tertulia.teamops.models import Rotation


def visible_rotations(user: User, organization: Organization) -> QuerySet[Rotation]:
    member = membership(user, organization)
    if Perm.VIEW not in permissions_of(member):
        return Rotation.objects.none()
    found = Rotation.objects.filter(organization=organization)
    ids = brand_ids_of(member)
    if ids is not None:
        found = found.filter(Q(all_brands=True) | Q(brands__in=ids)).distinct()
    return found


def may_manage_brands(
    user: User, organization: Organization, all_brands: bool, brand_ids: Iterable[int]
) -> bool:
    """Whether `user` may manage a rotation covering these brands."""
    member = membership(user, organization)
    if Perm.MANAGE_ROTATIONS not in permissions_of(member):
        return False
    mine = brand_ids_of(member)
    if mine is None:
        return True
    return not all_brands and set(brand_ids) <= set(mine)


def may_manage(user: User, rotation: Rotation) -> bool:
    return may_manage_brands(
        user,
        rotation.organization,
        rotation.all_brands,
        list(rotation.brands.values_list("pk", flat=True)),
    )
