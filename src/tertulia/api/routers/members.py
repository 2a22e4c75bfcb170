"""Members of the organization and their roles."""

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.pagination import paginate

from tertulia.api.auth import require
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import MemberCreatedOut, MemberIn, MemberOut, MemberPatch, ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.actions.organizations import change_member_role, deactivate_member, reactivate_member
from tertulia.core.actions.people import add_person
from tertulia.core.models import Membership, Organization

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


@router.post(
    "/members",
    response={201: MemberCreatedOut},
    summary="Add a person to the organization (creating their account if needed)",
)
def add_member(request: HttpRequest, payload: MemberIn) -> Status[dict[str, object]]:
    ctx = require(request, Scope.MEMBERS_WRITE)
    added = add_person(
        ctx.actor(request), ctx.organization, payload.email, payload.role, payload.display_name
    )
    member = added.member
    body = {
        "id": member.pk,
        "user": member.user,
        "role": member.role,
        "is_active": member.is_active,
        "created_at": member.created_at,
        "temporary_password": added.temporary_password,
    }
    return Status(201, body)


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
