"""Governance over the API: invitations, offboarding (its preview and the action), the access
review and backup coverage (docs/governance.md). The logic is in `tertulia.governance`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import Input, ObjectId, UserId, UserOut
from tertulia.api.scopes import Scope
from tertulia.core.models import Brand, Channel, Membership, Role, User
from tertulia.governance import access_review, coverage
from tertulia.governance.actions import invitations, offboarding
from tertulia.governance.actions.invitations import InvitationRefused
from tertulia.governance.actions.offboarding import Handover, OffboardingRefused
from tertulia.governance.models import Invitation

router = Router(tags=["governance"])

MAX_IDS = 500


# --- invitations -----------------------------------------------------------------------------------


class InvitationIn(Input):
    email: str = Field(..., max_length=254)
    role: Role
    all_brands: bool = True
    brand_ids: list[ObjectId] = Field(default_factory=list, max_length=MAX_IDS)
    channel_ids: list[ObjectId] = Field(default_factory=list, max_length=MAX_IDS)


class InvitationOut(Schema):
    id: int
    email: str
    role: Role
    all_brands: bool
    brand_ids: list[int]
    channel_ids: list[int]
    state: str
    invited_by: UserOut | None
    created_at: datetime
    expires_at: datetime
    sent_count: int
    last_sent_at: datetime | None
    send_error: str

    @staticmethod
    def resolve_brand_ids(obj: Invitation) -> list[int]:
        return sorted(b.pk for b in obj.brands.all())

    @staticmethod
    def resolve_channel_ids(obj: Invitation) -> list[int]:
        return sorted(c.pk for c in obj.channels.all())

    @staticmethod
    def resolve_state(obj: Invitation) -> str:
        return obj.state.value


def _site(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _invitations(ctx: ApiContext) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(organization=ctx.organization)
        .select_related("invited_by")
        .prefetch_related("brands", "channels")
    )


@router.get("/invitations", response=list[InvitationOut], summary="List invitations (open ones by default)")
@paginate(Pagination)
def list_invitations(request: HttpRequest, include_closed: bool = False) -> QuerySet[Invitation]:
    ctx = require(request, Scope.MEMBERS_WRITE)
    found = _invitations(ctx).order_by("-created_at", "-id")
    if not include_closed:
        found = found.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    return found


@router.post(
    "/invitations",
    response={201: InvitationOut},
    summary="Invite someone by e-mail (they receive a link that works once; it is never in a response)",
)
def create_invitation(request: HttpRequest, payload: InvitationIn) -> Status[Invitation]:
    ctx = require(request, Scope.MEMBERS_WRITE)
    brands = list(Brand.objects.filter(organization=ctx.organization, pk__in=payload.brand_ids))
    channels = list(Channel.objects.filter(organization=ctx.organization, pk__in=payload.channel_ids))
    if len(brands) != len(set(payload.brand_ids)) or len(channels) != len(set(payload.channel_ids)):
        raise ApiError(422, _("Choose brands and channels of this organization."), "not_in_organization")
    try:
        delivery = invitations.invite(
            ctx.actor(request),
            ctx.organization,
            payload.email,
            payload.role,
            site_url=_site(request),
            all_brands=payload.all_brands,
            brands=brands,
            channels=channels,
        )
    except InvitationRefused as exc:
        raise ApiError(422, str(exc), "invitation_refused") from None
    return Status(201, _invitations(ctx).get(pk=delivery.invitation.pk))


@router.post("/invitations/{invitation_id}/resend", response=InvitationOut, summary="Send a new link")
def resend_invitation(request: HttpRequest, invitation_id: ObjectId) -> Invitation:
    ctx = require(request, Scope.MEMBERS_WRITE)
    invitation = get_object_or_404(_invitations(ctx), pk=invitation_id)
    try:
        invitations.resend(ctx.actor(request), invitation, site_url=_site(request))
    except InvitationRefused as exc:
        raise ApiError(409, str(exc), "invitation_closed") from None
    return _invitations(ctx).get(pk=invitation.pk)


@router.delete("/invitations/{invitation_id}", response={204: None}, summary="Revoke an invitation")
def revoke_invitation(request: HttpRequest, invitation_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.MEMBERS_WRITE)
    invitation = get_object_or_404(_invitations(ctx), pk=invitation_id)
    try:
        invitations.revoke(ctx.actor(request), invitation)
    except InvitationRefused as exc:
        raise ApiError(409, str(exc), "invitation_closed") from None
    return Status(204, None)


# --- offboarding ---------------------------------------------------------------------------------


class ChannelToReviewOut(Schema):
    id: int
    handle: str
    network: str
    connected_by_them: bool
    personal_login: bool
    only_operator: bool


class OffboardingPlanOut(Schema):
    member_id: int
    is_active: bool
    nothing_to_do: bool
    refused: str
    conversation_ids: list[int]
    approval_step_ids: list[int]
    awaiting_post_ids: list[int]
    post_ids: list[int]
    token_ids: list[int]
    granted_channel_ids: list[int]
    brand_ids: list[int]
    invitation_ids: list[int]
    channels_to_review: list[ChannelToReviewOut]
    other_organizations: int


class OffboardIn(Input):
    conversations_to: UserId | None = Field(None, description="null: back to the queue")
    approvals_to: UserId | None = Field(None, description="null: only remove them from approval steps")
    posts_to: UserId | None = Field(None, description="required when they own scheduled posts")


class OffboardOut(Schema):
    done: bool = Field(..., description="false: nothing was left to do (it ran before)")
    audit_entry_id: int | None
    details: dict[str, Any]


def _member(ctx: ApiContext, member_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=member_id, organization=ctx.organization
    )


@router.get(
    "/members/{member_id}/offboarding",
    response=OffboardingPlanOut,
    summary="What offboarding this member would do (changes nothing)",
)
def offboarding_plan(request: HttpRequest, member_id: ObjectId) -> dict[str, Any]:
    ctx = require(request, Scope.MEMBERS_WRITE)
    member = _member(ctx, member_id)
    plan = offboarding.plan_for(member)
    refused = ""
    try:
        offboarding.check_allowed(ctx.actor(request), member)
    except OffboardingRefused as exc:
        refused = str(exc)
    return {
        "member_id": member.pk,
        "is_active": member.is_active,
        "nothing_to_do": plan.nothing_to_do,
        "refused": refused,
        "conversation_ids": [c.pk for c in plan.conversations],
        "approval_step_ids": [s.pk for s in plan.steps],
        "awaiting_post_ids": [p.pk for p in plan.awaiting],
        "post_ids": [p.pk for p in plan.posts],
        "token_ids": [t.pk for t in plan.tokens],
        "granted_channel_ids": [c.pk for c in plan.grants],
        "brand_ids": [b.pk for b in plan.brands],
        "invitation_ids": [i.pk for i in plan.invitations],
        "channels_to_review": [
            {
                "id": item.channel.pk,
                "handle": item.channel.handle,
                "network": item.channel.network,
                "connected_by_them": item.connected_by_them,
                "personal_login": item.personal_login,
                "only_operator": item.only_operator,
            }
            for item in plan.channels
        ],
        "other_organizations": plan.other_organizations,
    }


def _person(ctx: ApiContext, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    found = User.objects.filter(pk=user_id, memberships__organization=ctx.organization).first()
    if found is None:
        raise ApiError(422, _("That person is not a member of this organization."), "not_a_member")
    return found


@router.post(
    "/members/{member_id}/offboard",
    response=OffboardOut,
    summary="Offboard a member: deactivate, sign out, revoke tokens and grants, hand their work on",
)
def offboard_member(request: HttpRequest, member_id: ObjectId, payload: OffboardIn) -> dict[str, Any]:
    ctx = require(request, Scope.MEMBERS_WRITE)
    member = _member(ctx, member_id)
    handover = Handover(
        conversations_to=_person(ctx, payload.conversations_to),
        approvals_to=_person(ctx, payload.approvals_to),
        posts_to=_person(ctx, payload.posts_to),
    )
    try:
        entry = offboarding.offboard(ctx.actor(request), member, handover)
    except OffboardingRefused as exc:
        raise ApiError(409, str(exc), "offboarding_refused") from None
    if entry is None:
        return {"done": False, "audit_entry_id": None, "details": {}}
    return {"done": True, "audit_entry_id": entry.pk, "details": entry.changes["offboarding"][1]}


# --- the access review and backup coverage ----------------------------------------------------------


class AccessRowOut(Schema):
    member_id: int
    user: UserOut
    role: Role
    is_active: bool
    all_brands: bool
    brands: list[str]
    operates_every_channel: bool
    channel_ids: list[int]
    second_factors: list[str] | None = Field(..., description="null: this installation has no second factors")
    last_login: datetime | None
    last_activity: datetime | None
    api_tokens: int
    api_tokens_last_used: datetime | None
    member_since: datetime


@router.get(
    "/access-review", response=list[AccessRowOut], summary="Who can do what where (the access review)"
)
@paginate(Pagination)
def access_review_rows(
    request: HttpRequest,
    q: str = "",
    role: str = "",
    state: str = "active",
    two_factor: str = "",
    brand: int | None = None,
    channel: int | None = None,
    idle: int | None = None,
) -> list[dict[str, Any]]:
    ctx = require(request, Scope.AUDIT_READ)
    raw = {"q": q, "role": role, "state": state, "two_factor": two_factor}
    raw.update(
        {k: str(v) for k, v in {"brand": brand, "channel": channel, "idle": idle}.items() if v is not None}
    )
    filters = access_review.Filters.from_query(raw, ctx.organization)
    rows = access_review.apply(access_review.rows(ctx.organization), filters)
    return [
        {
            "member_id": row.member.pk,
            "user": row.member.user,
            "role": row.member.role,
            "is_active": row.member.is_active,
            "all_brands": row.all_brands,
            "brands": row.brands,
            "operates_every_channel": row.operates_every_channel,
            "channel_ids": [c.pk for c in row.channels],
            "second_factors": row.second_factors,
            "last_login": row.last_login,
            "last_activity": row.last_activity,
            "api_tokens": row.tokens,
            "api_tokens_last_used": row.tokens_last_used,
            "member_since": row.member.created_at,
        }
        for row in rows
    ]


class GapOut(Schema):
    channel_id: int
    handle: str
    network: str
    brand_id: int
    kind: str
    people: list[UserOut]
    title: str
    advice: str


@router.get("/coverage", response=list[GapOut], summary="Backup coverage gaps, most urgent first")
def coverage_gaps(request: HttpRequest) -> list[dict[str, Any]]:
    ctx = require(request, Scope.AUDIT_READ)
    return [
        {
            "channel_id": gap.channel.pk,
            "handle": gap.channel.handle,
            "network": gap.channel.network,
            "brand_id": gap.channel.brand_id,
            "kind": gap.kind.value,
            "people": list(gap.people),
            "title": str(gap.title),
            "advice": str(gap.advice),
        }
        for gap in coverage.gaps(ctx.organization)
    ]
