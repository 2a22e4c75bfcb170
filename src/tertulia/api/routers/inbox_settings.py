"""A brand's inbox settings (SLA policy and business hours, assignment and escalation, saved
replies), the organization's tags, and the SLA report.

Reading needs `brands:read` (any member); changing needs `brands:write` (a role that manages
brands), as on the web settings page. Ids of another organization are 404.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import AfterValidator

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import Input, ObjectId, Patch, Text, UserId
from tertulia.api.scopes import Scope
from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import covers_all_brands
from tertulia.inbox import sla_report
from tertulia.inbox.actions import settings as actions
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.actions.settings import MAX_TARGET_MINUTES, MAX_WARN_MINUTES
from tertulia.inbox.models import Assignment, InboxSettings, Intent, SavedReply, SlaPolicy, Tag
from tertulia.inbox.sla import policy_for

router = Router(tags=["inbox settings"])

T = TypeVar("T")
TargetMinutes = Annotated[int, Field(ge=1, le=MAX_TARGET_MINUTES)]


# ---------------------------------------------------------------- shapes


class SlaPolicyIO(Input):
    first_response_minutes: TargetMinutes = Field(
        description="First answer within this many business minutes."
    )
    next_response_minutes: TargetMinutes = Field(description="Every later answer within this many.")
    intent_targets: dict[Intent, TargetMinutes] = Field(
        default_factory=dict, description='Shorter targets by intent, e.g. {"complaint": 60}.'
    )
    critical_response_minutes: TargetMinutes = Field(description="Critical messages within this many.")
    warn_before_minutes: int = Field(
        ge=0, le=MAX_WARN_MINUTES, description="0: no warning before the due time."
    )
    business_hours: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            '{} counts around the clock in the brand\'s time zone; otherwise {"timezone": "Europe/Madrid", '
            '"week": {"mon": [["09:00", "14:00"], ["16:00", "20:00"]], ...}, "holidays": ["2026-12-25"]}; '
            "weekdays left out are closed."
        ),
    )


class InboxSettingsOut(Schema):
    assignment: Assignment
    escalate_to: int | None = Field(description="User id; null: the organization's managers.")


class InboxSettingsIn(Input):
    assignment: Assignment
    escalate_to: UserId | None = Field(None, description="User id of an active member; null: the managers.")


class SavedReplyOut(Schema):
    id: int
    brand_id: int
    shortcut: str
    language: str
    title: str
    body: str
    updated_at: datetime


class SavedReplyIn(Input):
    shortcut: Text = Field(..., min_length=1, max_length=41, description="Typed after a slash, e.g. envio.")
    language: Text = Field(..., min_length=2, max_length=8)
    title: Text = Field(..., min_length=1, max_length=120)
    body: Text = Field(..., min_length=1, max_length=5000, description="May use {name}, {handle}, {agent}…")


class SavedReplyPatch(Patch):
    shortcut: Text | None = Field(None, min_length=1, max_length=41)
    language: Text | None = Field(None, min_length=2, max_length=8)
    title: Text | None = Field(None, min_length=1, max_length=120)
    body: Text | None = Field(None, min_length=1, max_length=5000)


class TagOut(Schema):
    id: int
    name: str
    conversations: int = Field(description="How many conversations have the tag.")

    @staticmethod
    def resolve_conversations(obj: Tag) -> int:
        used = getattr(obj, "conversations_count", None)
        return int(used) if used is not None else obj.conversations.count()


class TagPatch(Input):
    name: Text = Field(..., min_length=1, max_length=200)


class TallyOut(Schema):
    met: int
    breached: int = Field(description="Answered late, plus still unanswered past the due time.")
    running_late: int
    running: int
    stopped: int
    met_percent: float | None


class RowOut(Schema):
    key: str
    label: str
    tally: TallyOut


class SlaReportOut(Schema):
    brand_id: int
    start: datetime
    end: datetime
    generated_at: datetime
    overall: TallyOut
    by_stage: list[RowOut]
    by_channel: list[RowOut]
    by_intent: list[RowOut]
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    first_response_sample: int
    at_risk: int
    overdue: int


def _period(days: int) -> int:
    if days not in sla_report.PERIODS:
        raise ValueError(_("Choose 7, 30 or 90 days."))
    return days


class ReportQuery(Schema):
    days: Annotated[int, AfterValidator(_period)] = Field(
        30, description="The period: the last 7, 30 or 90 days."
    )


# ---------------------------------------------------------------- helpers


def _brand(ctx: ApiContext, brand_id: int) -> Brand:
    return get_object_or_404(ctx.brands(), pk=brand_id)


def _checked(call: Callable[[], T]) -> T:
    """Run an action; a refused value is a 422 naming the field."""
    try:
        return call()
    except ActionRefused as exc:
        field = getattr(exc, "field", None)
        loc = ["body", field] if field else ["body"]
        raise ApiError(
            422, str(exc), "validation_error", errors=[{"loc": loc, "msg": str(exc), "type": "invalid"}]
        ) from None


def _policy_out(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "first_response_minutes": policy.first_response_minutes,
        "next_response_minutes": policy.next_response_minutes,
        "intent_targets": policy.intent_targets if isinstance(policy.intent_targets, dict) else {},
        "critical_response_minutes": policy.critical_response_minutes,
        "warn_before_minutes": policy.warn_before_minutes,
        "business_hours": policy.business_hours if isinstance(policy.business_hours, dict) else {},
    }


def _member(organization: Organization, user_id: int) -> User:
    member = (
        Membership.objects.filter(organization=organization, user_id=user_id).select_related("user").first()
    )
    if member is None:
        raise ApiError(
            422,
            _("Only an active member who may see this brand can receive its escalations."),
            "validation_error",
            errors=[{"loc": ["body", "escalate_to"], "msg": _("not a member"), "type": "invalid"}],
        )
    return member.user


# ---------------------------------------------------------------- SLA policy


@router.get("/brands/{brand_id}/sla-policy", response=SlaPolicyIO, summary="A brand's SLA policy")
def get_sla_policy(request: HttpRequest, brand_id: ObjectId) -> dict[str, Any]:
    ctx = require(request, Scope.BRANDS_READ)
    return _policy_out(policy_for(_brand(ctx, brand_id)))


@router.put("/brands/{brand_id}/sla-policy", response=SlaPolicyIO, summary="Replace a brand's SLA policy")
def put_sla_policy(request: HttpRequest, brand_id: ObjectId, payload: SlaPolicyIO) -> dict[str, Any]:
    ctx = require(request, Scope.BRANDS_WRITE)
    brand = _brand(ctx, brand_id)
    policy = _checked(
        lambda: actions.update_sla_policy(ctx.actor(request), brand, **payload.model_dump(mode="json"))
    )
    return _policy_out(policy)


# ---------------------------------------------------------------- assignment and escalation


def _settings_out(settings: InboxSettings | None) -> dict[str, Any]:
    if settings is None:
        return {"assignment": Assignment.MANUAL, "escalate_to": None}
    return {"assignment": settings.assignment, "escalate_to": settings.escalate_to_id}


@router.get(
    "/brands/{brand_id}/inbox-settings",
    response=InboxSettingsOut,
    summary="How a brand's conversations are assigned and who hears of escalations",
)
def get_inbox_settings(request: HttpRequest, brand_id: ObjectId) -> dict[str, Any]:
    ctx = require(request, Scope.BRANDS_READ)
    return _settings_out(InboxSettings.objects.filter(brand=_brand(ctx, brand_id)).first())


@router.put(
    "/brands/{brand_id}/inbox-settings", response=InboxSettingsOut, summary="Replace a brand's inbox settings"
)
def put_inbox_settings(request: HttpRequest, brand_id: ObjectId, payload: InboxSettingsIn) -> dict[str, Any]:
    ctx = require(request, Scope.BRANDS_WRITE)
    brand = _brand(ctx, brand_id)
    person = _member(ctx.organization, payload.escalate_to) if payload.escalate_to is not None else None
    settings = _checked(
        lambda: actions.update_inbox_settings(
            ctx.actor(request), brand, assignment=payload.assignment, escalate_to=person
        )
    )
    return _settings_out(settings)


# ---------------------------------------------------------------- saved replies


def _replies(ctx: ApiContext) -> QuerySet[SavedReply]:
    return ctx.restrict(SavedReply.objects.select_related("brand__organization"))


@router.get(
    "/brands/{brand_id}/saved-replies", response=list[SavedReplyOut], summary="A brand's saved replies"
)
@paginate(Pagination)
def list_saved_replies(request: HttpRequest, brand_id: ObjectId) -> QuerySet[SavedReply]:
    ctx = require(request, Scope.BRANDS_READ)
    return SavedReply.objects.filter(brand=_brand(ctx, brand_id)).order_by("shortcut", "language", "id")


@router.post("/brands/{brand_id}/saved-replies", response={201: SavedReplyOut}, summary="Add a saved reply")
def create_saved_reply(request: HttpRequest, brand_id: ObjectId, payload: SavedReplyIn) -> Status[SavedReply]:
    ctx = require(request, Scope.BRANDS_WRITE)
    brand = _brand(ctx, brand_id)
    reply = _checked(lambda: actions.save_saved_reply(ctx.actor(request), brand, **payload.model_dump()))
    return Status(201, reply)


@router.get("/saved-replies/{reply_id}", response=SavedReplyOut, summary="One saved reply")
def get_saved_reply(request: HttpRequest, reply_id: ObjectId) -> SavedReply:
    ctx = require(request, Scope.BRANDS_READ)
    return get_object_or_404(_replies(ctx), pk=reply_id)


@router.patch("/saved-replies/{reply_id}", response=SavedReplyOut, summary="Change a saved reply")
def update_saved_reply(request: HttpRequest, reply_id: ObjectId, payload: SavedReplyPatch) -> SavedReply:
    ctx = require(request, Scope.BRANDS_WRITE)
    reply = get_object_or_404(_replies(ctx), pk=reply_id)
    values = {
        "shortcut": reply.shortcut,
        "language": reply.language,
        "title": reply.title,
        "body": reply.body,
        **payload.model_dump(exclude_unset=True),
    }
    return _checked(lambda: actions.save_saved_reply(ctx.actor(request), reply.brand, reply, **values))


@router.delete("/saved-replies/{reply_id}", response={204: None}, summary="Delete a saved reply")
def delete_saved_reply(request: HttpRequest, reply_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.BRANDS_WRITE)
    reply = get_object_or_404(_replies(ctx), pk=reply_id)
    actions.delete_saved_reply(ctx.actor(request), reply)
    return Status(204, None)


# ---------------------------------------------------------------- tags


def _tags(ctx: ApiContext) -> QuerySet[Tag]:
    """The organization's tags, counting the conversations of the caller's brands only."""
    mine = Q(conversations__brand__in=ctx.brands())
    return Tag.objects.filter(organization=ctx.organization).annotate(
        conversations_count=Count("conversations", filter=mine)
    )


def _shared_by_every_brand(ctx: ApiContext) -> None:
    """Tags are shared by every brand: only people who work in all of them may change them."""
    if not covers_all_brands(ctx.user, ctx.organization):
        raise ApiError(
            403,
            _("Tags are shared by every brand: only people who work in every brand can change them."),
            "permission_denied",
        )


@router.get(
    "/tags", response=list[TagOut], summary="The organization's tags, with how many conversations have each"
)
@paginate(Pagination)
def list_tags(request: HttpRequest) -> QuerySet[Tag]:
    ctx = require(request, Scope.BRANDS_READ)
    return _tags(ctx).order_by("name", "id")


@router.patch("/tags/{tag_id}", response=TagOut, summary="Rename a tag everywhere it is used")
def rename_tag(request: HttpRequest, tag_id: ObjectId, payload: TagPatch) -> Tag:
    ctx = require(request, Scope.BRANDS_WRITE)
    tag = get_object_or_404(_tags(ctx), pk=tag_id)
    _shared_by_every_brand(ctx)
    return _checked(lambda: actions.rename_tag(ctx.actor(request), tag, payload.name))


@router.delete(
    "/tags/{tag_id}", response={204: None}, summary="Delete a tag and take it off every conversation"
)
def delete_tag(request: HttpRequest, tag_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.BRANDS_WRITE)
    tag = get_object_or_404(Tag.objects.filter(organization=ctx.organization), pk=tag_id)
    _shared_by_every_brand(ctx)
    actions.delete_tag(ctx.actor(request), tag)
    return Status(204, None)


# ---------------------------------------------------------------- SLA report


@router.get("/brands/{brand_id}/sla-report", response=SlaReportOut, summary="The SLA report of the last days")
def get_sla_report(
    request: HttpRequest, brand_id: ObjectId, query: Query[ReportQuery]
) -> sla_report.SlaReport:
    ctx = require(request, Scope.BRANDS_READ)
    return sla_report.report_for_last(_brand(ctx, brand_id), query.days)
