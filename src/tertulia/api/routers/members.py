"""Members of the organization, their roles and the brands they work in.

People join by invitation only (`POST /api/v1/invitations`, tertulia.governance): nobody is added to an
organization without accepting, and no password is ever in an answer.
"""

from typing import Annotated

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import Input, MemberOut, MemberPatch, ObjectId, UserId
from tertulia.api.scopes import Scope
from tertulia.core.actions.grants import GrantRefused, brand_access_of, set_brand_access
from tertulia.core.actions.organizations import change_member_role, deactivate_member, reactivate_member
from tertulia.core.models import Brand, Membership, Organization
from tertulia.core.permissions import is_limited

router = Router(tags=["members"])


def _members(organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("id")


@router.get("/members", response=list[MemberOut], summary="List members (active and deactivated)")
@paginate(Pagination)
def list_members(request: HttpRequest, active: bool | None = None) -> QuerySet[Membership]:
    ctx = require(request, Scope.MEMBERS_READ)
    members = _members(ctx.organization)
    if active is not None:
        members = members.filter(is_active=active)
    return members


@router.get("/members/{member_id}", response=MemberOut, summary="One member")
def get_member(request: HttpRequest, member_id: ObjectId) -> Membership:
    ctx = require(request, Scope.MEMBERS_READ)
    return get_object_or_404(_members(ctx.organization), pk=member_id)


@router.patch("/members/{member_id}", response=MemberOut, summary="Change a member's role or deactivate them")
def update_member(request: HttpRequest, member_id: ObjectId, payload: MemberPatch) -> Membership:
    ctx = require(request, Scope.MEMBERS_WRITE)
    member = get_object_or_404(_members(ctx.organization), pk=member_id)
    values = payload.model_dump(exclude_unset=True)
    actor = ctx.actor(request)
    # Both changes or neither: a role change is not kept if the deactivation is refused.
    with transaction.atomic():
        if "role" in values:
            member = change_member_role(actor, member, values["role"])
        if values.get("is_active") is False:
            member = deactivate_member(actor, member)
        elif values.get("is_active") is True and not member.is_active:
            member = reactivate_member(actor, member)
    return member


# ---------------------------------------------------------------- brands (docs/permissions.md)


class BrandAccessIn(Input):
    all_brands: bool = Field(description="True: the member works in every brand; false: only in `brand_ids`.")
    brand_ids: Annotated[list[UserId], Field(max_length=1000)] = Field(
        default_factory=list, description="The brands, when `all_brands` is false (at least one)."
    )


class BrandAccessOut(Schema):
    all_brands: bool
    brand_ids: list[int] = Field(description="When limited: the brands (of those the caller may see).")


def _access_out(ctx: ApiContext, member: Membership) -> dict[str, object]:
    visible = set(ctx.brands().values_list("pk", flat=True))
    brands = [brand.pk for brand in brand_access_of(member) if brand.pk in visible]
    return {"all_brands": not is_limited(member), "brand_ids": brands}


@router.get(
    "/members/{member_id}/brands",
    response=BrandAccessOut,
    summary="Which brands a member works in (every one, or some)",
)
def get_member_brands(request: HttpRequest, member_id: ObjectId) -> dict[str, object]:
    ctx = require(request, Scope.MEMBERS_READ)
    return _access_out(ctx, get_object_or_404(_members(ctx.organization), pk=member_id))


@router.put(
    "/members/{member_id}/brands",
    response=BrandAccessOut,
    summary="Let a member work in every brand, or only in some",
    description=(
        "Owners and administrators always work in every brand. A member limited to some brands sees "
        "nothing of the others, operates none of their channels (their grants there are removed) and "
        "loses what covers the whole organization: members, the audit trail."
    ),
)
def set_member_brands(request: HttpRequest, member_id: ObjectId, payload: BrandAccessIn) -> dict[str, object]:
    ctx = require(request, Scope.MEMBERS_WRITE)
    member = get_object_or_404(_members(ctx.organization), pk=member_id)
    wanted = set(payload.brand_ids)
    brands = list(Brand.objects.filter(organization=ctx.organization, pk__in=wanted))
    unknown = sorted(wanted - {brand.pk for brand in brands})
    if unknown:
        raise ApiError(
            422,
            _("These brand ids are not brands of the organization: %(ids)s.")
            % {"ids": ", ".join(str(pk) for pk in unknown)},
            "unknown_brand",
            brand_ids=unknown,
        )
    try:
        member = set_brand_access(ctx.actor(request), member, all_brands=payload.all_brands, brands=brands)
    except GrantRefused as refused:
        raise ApiError(422, str(refused), "grant_refused") from None
    return _access_out(ctx, member)
