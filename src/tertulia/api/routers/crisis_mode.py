"""Crisis mode: start it for a brand or the whole organization, list and read crises (with their
checklist, roles, timeline and live numbers), end them, give and take roles, tick the checklist and
add notes. The same as the crisis room (docs/crisis-mode.md).

Crises are those of the brands the caller works in, and the organization-wide ones; anything else is
a 404. Reading needs `crisis:read`; everything else `crisis:write`, checked finer by
tertulia.crisis.mode (starting and ending: managing publishing in the brand, in every brand for the
whole organization; roles: that or leading the crisis; the checklist and notes: operating channels
or managing publishing in the brand, or a role in the crisis).
"""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import MAX_ID, Input, ObjectId, Text, UserId
from tertulia.api.scopes import Scope
from tertulia.core.models import Brand, Membership, User
from tertulia.core.permissions import brand_ids_of
from tertulia.crisis import mode, room
from tertulia.crisis.models import (
    Alert,
    ChecklistItem,
    Crisis,
    CrisisRole,
    CrisisRoleKind,
    CrisisState,
    Playbook,
)

router = Router(tags=["crisis"])

TIMELINE_SHOWN = 500


class ChecklistItemOut(Schema):
    id: int
    position: int
    title: str
    details: str
    role: str
    done_by_id: int | None
    done_at: datetime | None
    note: str


class CrisisRoleOut(Schema):
    user_id: int
    role: str
    assigned_at: datetime


class TimelineEntryOut(Schema):
    id: int
    at: datetime
    kind: str
    text: str
    actor_id: int | None


class CrisisMetricsOut(Schema):
    volume_per_minute: float = Field(description="Messages per minute, mean of the last five minutes.")
    negative_share: float | None = Field(description="Share of negative messages over the last 15 minutes.")
    posts_held: int = Field(description="Post deliveries that came due and wait for the pause to end.")
    replies_held: int = Field(description="Replies waiting for a crisis approver.")
    conversations_waiting: int = Field(description="Open conversations waiting for an answer.")


class PinnedStatementOut(Schema):
    shortcut: str
    language: str
    title: str
    body: str


class CrisisOut(Schema):
    id: int
    brand_id: int | None = Field(description="Null: the whole organization.")
    title: str
    state: str
    is_rehearsal: bool
    alert_id: int | None
    playbook_id: int | None
    pause_id: int | None
    opened_by_id: int | None
    opened_at: datetime
    closed_by_id: int | None
    closed_at: datetime | None


class CrisisDetailOut(CrisisOut):
    checklist: list[ChecklistItemOut]
    roles: list[CrisisRoleOut]
    timeline: list[TimelineEntryOut] = Field(description="Oldest first (the last 500 entries).")
    metrics: CrisisMetricsOut
    pinned_statements: list[PinnedStatementOut] = Field(
        description="Holding statements pinned in the inbox's saved replies (a brand's crisis, while active)."
    )


class CrisisFilter(Schema):
    state: CrisisState | None = None
    brand_id: int | None = Field(None, ge=1, le=MAX_ID)


class CrisisStartIn(Input):
    brand_id: int | None = Field(None, ge=1, le=MAX_ID, description="Null: every brand of the organization.")
    title: Text = Field(..., max_length=mode.MAX_TITLE, description="What is happening, in a few words.")
    playbook_id: int | None = Field(None, ge=1, le=MAX_ID, description="Null: the brand's default playbook.")
    alert_id: int | None = Field(None, ge=1, le=MAX_ID, description="The alert that led here: acknowledged.")


class CrisisEndIn(Input):
    resume_publishing: bool = Field(
        True, description="False keeps publishing paused on purpose (crisis mode ends all the same)."
    )


class CrisisRoleIn(Input):
    user_id: UserId
    role: CrisisRoleKind


class ChecklistTickIn(Input):
    done: bool = True
    note: Text = Field("", max_length=mode.MAX_STEP_NOTE)


class CrisisNoteIn(Input):
    text: Text = Field(..., max_length=mode.MAX_NOTE)


def _crises(ctx: ApiContext) -> QuerySet[Crisis]:
    return ctx.restrict(Crisis.objects.select_related("organization", "brand"), org_wide=True)


def _crisis(ctx: ApiContext, crisis_id: int) -> Crisis:
    return get_object_or_404(_crises(ctx), pk=crisis_id)


def _refused(refused: mode.CrisisRefused) -> ApiError:
    if isinstance(refused, mode.NotPermitted):
        return ApiError(403, str(refused), "permission_denied")
    return ApiError(422, str(refused), "crisis_refused")


def _summary(crisis: Crisis) -> dict[str, Any]:
    return {
        "id": crisis.pk,
        "brand_id": crisis.brand_id,
        "title": crisis.title,
        "state": crisis.state,
        "is_rehearsal": crisis.is_rehearsal,
        "alert_id": crisis.alert_id,
        "playbook_id": crisis.playbook_id,
        "pause_id": crisis.pause_id,
        "opened_by_id": crisis.opened_by_id,
        "opened_at": crisis.opened_at,
        "closed_by_id": crisis.closed_by_id,
        "closed_at": crisis.closed_at,
    }


def _detail(crisis: Crisis, ctx: ApiContext) -> dict[str, Any]:
    # A caller limited to some brands gets the numbers of those brands only.
    numbers = room.metrics(crisis, brand_ids=brand_ids_of(ctx.member))
    entries = list(crisis.timeline.order_by("-at", "-id")[:TIMELINE_SHOWN])
    entries.reverse()
    pinned = (
        mode.pinned_statements(crisis.brand)
        if crisis.brand is not None and crisis.state == CrisisState.ACTIVE
        else []
    )
    return {
        **_summary(crisis),
        "checklist": list(ChecklistItem.objects.filter(crisis=crisis)),
        "roles": list(CrisisRole.objects.filter(crisis=crisis)),
        "timeline": entries,
        "metrics": {
            "volume_per_minute": numbers.volume_per_minute,
            "negative_share": numbers.negative_share,
            "posts_held": numbers.posts_held,
            "replies_held": numbers.replies_held,
            "conversations_waiting": numbers.conversations_waiting,
        },
        "pinned_statements": pinned,
    }


@router.get("/crisis/crises", response=list[CrisisOut], summary="Crises, newest first")
@paginate(Pagination)
def list_crises(request: HttpRequest, filters: Query[CrisisFilter]) -> list[dict[str, Any]]:
    ctx = require(request, Scope.CRISIS_READ)
    found = _crises(ctx)
    if filters.state is not None:
        found = found.filter(state=filters.state)
    if filters.brand_id is not None:
        found = found.filter(brand_id=filters.brand_id)
    return [_summary(crisis) for crisis in found.order_by("-opened_at", "-id")[:500]]


@router.get(
    "/crisis/crises/{crisis_id}",
    response=CrisisDetailOut,
    summary="One crisis: checklist, roles, timeline, live numbers",
)
def get_crisis(request: HttpRequest, crisis_id: ObjectId) -> dict[str, Any]:
    ctx = require(request, Scope.CRISIS_READ)
    return _detail(_crisis(ctx, crisis_id), ctx)


@router.post(
    "/crisis/crises",
    response={200: CrisisDetailOut, 201: CrisisDetailOut},
    summary="Start crisis mode for a brand or the whole organization",
    description=(
        "201: crisis mode is on (publishing paused in crisis mode, checklist from the playbook, holding "
        "statements pinned). 200: crisis mode was already on for that scope; its crisis is returned."
    ),
)
def start_crisis(request: HttpRequest, payload: CrisisStartIn) -> Status[dict[str, Any]]:
    ctx = require(request, Scope.CRISIS_WRITE)
    brand: Brand | None = None
    if payload.brand_id is not None:
        brand = get_object_or_404(ctx.brands(), pk=payload.brand_id)
    playbook = None
    if payload.playbook_id is not None:
        playbook = get_object_or_404(Playbook.objects.filter(brand__in=ctx.brands()), pk=payload.playbook_id)
    alert = None
    if payload.alert_id is not None:
        alert = get_object_or_404(Alert.objects.filter(brand__in=ctx.brands()), pk=payload.alert_id)
    already = mode.active_crisis(ctx.organization, brand)
    try:
        crisis = mode.start_crisis(
            ctx.actor(request), ctx.organization, brand, payload.title, alert=alert, playbook=playbook
        )
    except mode.CrisisRefused as refused:
        raise _refused(refused) from None
    return Status(200 if already is not None and already.pk == crisis.pk else 201, _detail(crisis, ctx))


@router.post("/crisis/crises/{crisis_id}/end", response=CrisisDetailOut, summary="End crisis mode")
def end_crisis(request: HttpRequest, crisis_id: ObjectId, payload: CrisisEndIn) -> dict[str, Any]:
    ctx = require(request, Scope.CRISIS_WRITE)
    try:
        crisis = mode.end_crisis(
            ctx.actor(request), _crisis(ctx, crisis_id), resume_publishing=payload.resume_publishing
        )
    except mode.CrisisRefused as refused:
        raise _refused(refused) from None
    return _detail(crisis, ctx)


def _person(crisis: Crisis, user_id: int) -> User:
    member = (
        Membership.objects.filter(organization_id=crisis.organization_id, user_id=user_id, is_active=True)
        .select_related("user")
        .first()
    )
    if member is None:
        raise ApiError(422, _("That person does not work in this brand."), "crisis_refused")
    return member.user


@router.post(
    "/crisis/crises/{crisis_id}/roles", response=CrisisDetailOut, summary="Give someone a crisis role"
)
def assign_crisis_role(request: HttpRequest, crisis_id: ObjectId, payload: CrisisRoleIn) -> dict[str, Any]:
    ctx = require(request, Scope.CRISIS_WRITE)
    crisis = _crisis(ctx, crisis_id)
    try:
        mode.assign_role(ctx.actor(request), crisis, _person(crisis, payload.user_id), payload.role)
    except mode.CrisisRefused as refused:
        raise _refused(refused) from None
    return _detail(crisis, ctx)


@router.delete(
    "/crisis/crises/{crisis_id}/roles",
    response={204: None},
    summary="Take a crisis role from someone (`?user_id=&role=`)",
)
def remove_crisis_role(request: HttpRequest, crisis_id: ObjectId, which: Query[CrisisRoleIn]) -> Status[None]:
    ctx = require(request, Scope.CRISIS_WRITE)
    crisis = _crisis(ctx, crisis_id)
    try:
        mode.unassign_role(ctx.actor(request), crisis, _person(crisis, which.user_id), which.role)
    except mode.CrisisRefused as refused:
        raise _refused(refused) from None
    return Status(204, None)


@router.post(
    "/crisis/crises/{crisis_id}/checklist/{item_id}",
    response=ChecklistItemOut,
    summary="Tick (or untick) a checklist step; who and when are kept",
)
def tick_crisis_step(
    request: HttpRequest, crisis_id: ObjectId, item_id: ObjectId, payload: ChecklistTickIn
) -> ChecklistItem:
    ctx = require(request, Scope.CRISIS_WRITE)
    crisis = _crisis(ctx, crisis_id)
    item = get_object_or_404(ChecklistItem.objects.filter(crisis=crisis).select_related("crisis"), pk=item_id)
    try:
        return mode.tick(ctx.actor(request), item, done=payload.done, note=payload.note)
    except mode.CrisisRefused as refused:
        raise _refused(refused) from None


@router.post(
    "/crisis/crises/{crisis_id}/notes",
    response={201: TimelineEntryOut},
    summary="Add a note to the crisis's timeline",
)
def add_crisis_note(request: HttpRequest, crisis_id: ObjectId, payload: CrisisNoteIn) -> Status[Any]:
    ctx = require(request, Scope.CRISIS_WRITE)
    try:
        entry = mode.add_note(ctx.actor(request), _crisis(ctx, crisis_id), payload.text)
    except mode.CrisisRefused as refused:
        raise _refused(refused) from None
    return Status(201, entry)
