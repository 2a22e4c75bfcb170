"""Moderation: a brand's rules (with a dry run), the moderation log, moderating a message by hand,
and approving or rejecting what needs a second person. The same as Settings → Moderation.

Conditions and actions are JSON in the shape docs/moderation.md describes; anything else is a 422
that says which key is wrong. The log lists only actions on channels the caller operates, unless
they may approve (they see the whole organization's).
"""

from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import Input, ObjectId, Patch, Text
from tertulia.api.scopes import Scope
from tertulia.core.models import Channel
from tertulia.core.permissions import Perm, operable_channels
from tertulia.inbox.models import Message
from tertulia.moderation.actions import manual
from tertulia.moderation.actions import rules as actions
from tertulia.moderation.choices import ActionStatus, ActionType
from tertulia.moderation.dryrun import DEFAULT_DAYS, DryRunReport, dry_run
from tertulia.moderation.models import ModerationAction, ModerationRule

router = Router(tags=["moderation"])

MAX_POSITION = 2**31 - 1


class RuleOut(Schema):
    id: int
    brand_id: int
    name: str
    enabled: bool
    position: int
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    stop_processing: bool
    created_at: datetime
    updated_at: datetime


class RuleIn(Input):
    name: Text = Field(..., min_length=1, max_length=120)
    conditions: dict[str, Any] = Field(
        ..., description='e.g. {"intents": ["spam"], "kinds": ["reply"]}; see docs/moderation.md'
    )
    actions: list[dict[str, Any]] = Field(
        ..., description='e.g. [{"type": "hide"}, {"type": "tag", "tag": "spam"}]'
    )
    enabled: bool = False
    stop_processing: bool = False
    position: int | None = Field(None, ge=0, le=MAX_POSITION)


class RulePatch(Patch):
    name: Text | None = Field(None, min_length=1, max_length=120)
    conditions: dict[str, Any] | None = Field(None)
    actions: list[dict[str, Any]] | None = Field(None)
    enabled: bool | None = Field(None)
    stop_processing: bool | None = Field(None)
    position: int | None = Field(None, ge=0, le=MAX_POSITION)


class ActionOut(Schema):
    id: int
    brand_id: int
    channel_id: int
    conversation_id: int
    message_id: int
    automatic: bool
    rule_id: int | None
    rule_name: str
    action_type: str
    params: dict[str, Any]
    status: str
    reason: str
    requested_by_id: int | None
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    error: str
    executed_at: datetime | None
    created_at: datetime


class ActionFilter(Schema):
    brand_id: int | None = Field(None, ge=1)
    status: ActionStatus | None = None
    message_id: int | None = Field(None, ge=1)
    conversation_id: int | None = Field(None, ge=1)


class DryRunQuery(Schema):
    days: int = Field(DEFAULT_DAYS, ge=1, le=DEFAULT_DAYS, description="How far back to look.")


class ModerateIn(Input):
    action: Literal["hide", "unhide", "delete", "block"]
    reason: Text = Field("", max_length=500, description="Needed to delete or block; kept in the log.")


class ModerationDecisionIn(Input):
    note: Text = Field("", max_length=500, description="Why (kept in the log).")


class WouldOut(Schema):
    action_type: str
    status: str
    guardrail: str


class SampleOut(Schema):
    message_id: int
    conversation_id: int
    sent_at: datetime
    channel_handle: str
    author_handle: str
    author_reach: int
    intent: str
    text: str
    would: list[WouldOut]


class OutcomeOut(Schema):
    action_type: str
    status: str
    count: int


class DryRunOut(Schema):
    rule_id: int | None
    rule_name: str
    days: int
    since: datetime
    scanned: int
    matched: int
    truncated: bool
    outcomes: list[OutcomeOut]
    sample: list[SampleOut]


def _report(report: DryRunReport) -> dict[str, Any]:
    return {
        "rule_id": report.rule_id,
        "rule_name": report.rule_name,
        "days": report.days,
        "since": report.since,
        "scanned": report.scanned,
        "matched": report.matched,
        "truncated": report.truncated,
        "outcomes": [
            {"action_type": line.action_type, "status": line.status, "count": line.count}
            for line in report.lines
        ],
        "sample": [
            {
                "message_id": item.message_id,
                "conversation_id": item.conversation_id,
                "sent_at": item.sent_at,
                "channel_handle": item.channel_handle,
                "author_handle": item.author_handle,
                "author_reach": item.author_reach,
                "intent": item.intent,
                "text": item.text,
                "would": [
                    {"action_type": w.action_type, "status": w.status, "guardrail": w.guardrail}
                    for w in item.would
                ],
            }
            for item in report.sample
        ],
    }


def _refused(refused: manual.ModerationRefused) -> ApiError:
    if isinstance(refused, manual.NotPermitted):
        return ApiError(403, str(refused), "permission_denied")
    if isinstance(refused, manual.AlreadyDecided):
        return ApiError(409, str(refused), "already_decided")
    return ApiError(422, str(refused), "moderation_refused")


def _rule(ctx: ApiContext, rule_id: int) -> ModerationRule:
    return get_object_or_404(ctx.restrict(ModerationRule.objects.select_related("brand")), pk=rule_id)


def _visible_actions(ctx: ApiContext) -> QuerySet[ModerationAction]:
    found = ctx.restrict(ModerationAction.objects.all())
    if Perm.APPROVE_MODERATION not in ctx.perms:
        channels = list(Channel.objects.filter(organization=ctx.organization))
        found = found.filter(channel__in=operable_channels(ctx.user, ctx.organization, channels))
    return found


# ---------------------------------------------------------------- rules


@router.get(
    "/brands/{brand_id}/moderation/rules",
    response=list[RuleOut],
    summary="A brand's moderation rules, in the order they run",
)
def list_moderation_rules(request: HttpRequest, brand_id: ObjectId) -> QuerySet[ModerationRule]:
    ctx = require(request, Scope.MODERATION_READ)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    return ModerationRule.objects.filter(brand=brand).order_by("position", "id")


@router.post(
    "/brands/{brand_id}/moderation/rules",
    response={201: RuleOut},
    summary="Create a moderation rule (off unless enabled)",
)
def create_moderation_rule(
    request: HttpRequest, brand_id: ObjectId, payload: RuleIn
) -> Status[ModerationRule]:
    ctx = require(request, Scope.MODERATION_RULES_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    return Status(201, actions.create_rule(ctx.actor(request), brand, **payload.model_dump()))


@router.get("/moderation/rules/{rule_id}", response=RuleOut, summary="One moderation rule")
def get_moderation_rule(request: HttpRequest, rule_id: ObjectId) -> ModerationRule:
    ctx = require(request, Scope.MODERATION_READ)
    return _rule(ctx, rule_id)


@router.patch("/moderation/rules/{rule_id}", response=RuleOut, summary="Change a moderation rule")
def update_moderation_rule(request: HttpRequest, rule_id: ObjectId, payload: RulePatch) -> ModerationRule:
    ctx = require(request, Scope.MODERATION_RULES_WRITE)
    rule = _rule(ctx, rule_id)
    return actions.update_rule(ctx.actor(request), rule, **payload.model_dump(exclude_unset=True))


@router.delete(
    "/moderation/rules/{rule_id}", response={204: None}, summary="Delete a moderation rule (its log stays)"
)
def delete_moderation_rule(request: HttpRequest, rule_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.MODERATION_RULES_WRITE)
    actions.delete_rule(ctx.actor(request), _rule(ctx, rule_id))
    return Status(204, None)


@router.post(
    "/moderation/rules/{rule_id}/dry-run",
    response=DryRunOut,
    summary="What the rule would have done over the brand's recent messages (nothing is done)",
)
def dry_run_moderation_rule(
    request: HttpRequest, rule_id: ObjectId, query: Query[DryRunQuery]
) -> dict[str, Any]:
    ctx = require(request, Scope.MODERATION_READ)
    return _report(dry_run(_rule(ctx, rule_id), days=query.days))


# ---------------------------------------------------------------- the log, moderating, approving


@router.get("/moderation/actions", response=list[ActionOut], summary="The moderation log, newest first")
@paginate(Pagination)
def list_moderation_actions(request: HttpRequest, filters: Query[ActionFilter]) -> QuerySet[ModerationAction]:
    ctx = require(request, Scope.MODERATION_READ)
    found = _visible_actions(ctx)
    for key in ("brand_id", "status", "message_id", "conversation_id"):
        value = getattr(filters, key)
        if value is not None:
            found = found.filter(**{key: value})
    return found.order_by("-created_at", "-id")


@router.get("/moderation/actions/{action_id}", response=ActionOut, summary="One moderation action")
def get_moderation_action(request: HttpRequest, action_id: ObjectId) -> ModerationAction:
    ctx = require(request, Scope.MODERATION_READ)
    return get_object_or_404(_visible_actions(ctx), pk=action_id)


@router.post(
    "/messages/{message_id}/moderation",
    response={201: ActionOut},
    summary="Hide, show again, delete or block by hand (deleting or blocking may wait for approval)",
)
def moderate_message(
    request: HttpRequest, message_id: ObjectId, payload: ModerateIn
) -> Status[ModerationAction]:
    ctx = require(request, Scope.MODERATION_WRITE)
    message = get_object_or_404(
        Message.objects.select_related("channel"), pk=message_id, organization=ctx.organization
    )
    if not operable_channels(ctx.user, ctx.organization, [message.channel]):
        raise Http404  # a channel the caller does not operate is not theirs to see
    try:
        action = manual.moderate(ctx.actor(request), message, ActionType(payload.action), payload.reason)
    except manual.ModerationRefused as refused:
        raise _refused(refused) from None
    return Status(201, action)


@router.post(
    "/moderation/actions/{action_id}/approve",
    response=ActionOut,
    summary="Approve someone else's request to delete or block",
)
def approve_moderation_action(
    request: HttpRequest, action_id: ObjectId, payload: ModerationDecisionIn
) -> ModerationAction:
    ctx = require(request, Scope.MODERATION_APPROVE)
    action = get_object_or_404(ctx.restrict(ModerationAction.objects.all()), pk=action_id)
    try:
        return manual.approve(ctx.actor(request), action, payload.note)
    except manual.ModerationRefused as refused:
        raise _refused(refused) from None


@router.post(
    "/moderation/actions/{action_id}/reject",
    response=ActionOut,
    summary="Reject a request to delete or block (or withdraw your own)",
)
def reject_moderation_action(
    request: HttpRequest, action_id: ObjectId, payload: ModerationDecisionIn
) -> ModerationAction:
    ctx = require(request, Scope.MODERATION_WRITE)
    action = get_object_or_404(_visible_actions(ctx), pk=action_id)
    try:
        return manual.reject(ctx.actor(request), action, payload.note)
    except manual.ModerationRefused as refused:
        raise _refused(refused) from None
