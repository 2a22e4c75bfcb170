"""Crisis alerts: list and read them (with the explanation of the surge that raised them and who was
told when and how), acknowledge, resolve, raise one by hand; read and replace a brand's escalation
chain. The same as the web pages (docs/crisis-alerts.md).

Alerts are those of the brands the caller works in; anything else is a 404. Reading needs
`crisis:read`; acknowledging, resolving and raising `crisis:write`; replacing a chain `crisis:write`
and a role that manages the brand.
"""

from datetime import datetime

from django.db.models import Case, Value, When
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Mapped, Pagination
from tertulia.api.schemas import MAX_ID, Input, ObjectId, Text, UserId
from tertulia.api.scopes import Scope
from tertulia.core.models import Brand
from tertulia.core.permissions import brands_for
from tertulia.crisis import alerts as alert_actions
from tertulia.crisis import escalation
from tertulia.crisis.models import Alert, AlertState, EscalationStep

router = Router(tags=["crisis"])


class SurgeAuthorOut(Schema):
    name: str
    followers: int | None


class SurgeExampleOut(Schema):
    text: str
    author: str


class SurgeExplanationOut(Schema):
    title: str
    what: str
    since: str
    top_terms: list[str]
    authors: list[SurgeAuthorOut]
    examples: list[SurgeExampleOut]


class AlertSurgeOut(Schema):
    id: int
    metric: str
    started_at: datetime
    detected_at: datetime
    window_minutes: int
    observed: float | None
    expected: float | None
    ratio: float | None = Field(..., description="observed / expected (null when nothing was expected).")
    p_value: float


class AlertNoticeOut(Schema):
    level: int
    medium: str
    user_id: int | None
    sent_at: datetime
    error: str


class CrisisAlertOut(Schema):
    id: int
    brand_id: int
    title: str
    summary: str
    state: str
    raised_at: datetime
    level: int
    next_escalation_at: datetime | None
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    is_rehearsal: bool
    surge: AlertSurgeOut | None
    explanation: SurgeExplanationOut | None = Field(
        None, description="The surge told in words (null when raised by hand)."
    )
    notices: list[AlertNoticeOut] = Field(default_factory=list, description="Who was told, when and how.")


class CrisisAlertFilter(Schema):
    state: AlertState | None = None
    brand_id: int | None = Field(None, ge=1, le=MAX_ID)


class CrisisAlertIn(Input):
    brand_id: int = Field(..., ge=1, le=MAX_ID, description="The brand the alert is about.")
    title: Text = Field(
        ..., max_length=alert_actions.MAX_TITLE, description="What is happening, in a few words."
    )
    summary: Text = Field("", max_length=alert_actions.MAX_SUMMARY, description="Details (optional).")


class EscalationStepIn(Input):
    user_id: UserId
    wait_minutes: int = Field(
        10, ge=0, le=escalation.MAX_WAIT, description="Ignored for the first step (told at once)."
    )
    by_email: bool = True


class EscalationChainIn(Input):
    steps: list[EscalationStepIn] = Field(
        ..., max_length=escalation.MAX_STEPS, description="In order: on call first."
    )


class EscalationStepOut(Schema):
    position: int
    user_id: int
    wait_minutes: int
    by_email: bool


class EscalationChainOut(Schema):
    brand_id: int
    steps: list[EscalationStepOut]
    fallback_user_ids: list[int] = Field(..., description="Told when the chain is empty.")
    renotify_minutes: int = Field(
        ..., description="The whole chain is told again this often until acknowledged."
    )


def _out(alert: Alert) -> dict[str, object]:
    explanation = alert_actions.explanation_of(alert)
    return {
        "id": alert.pk,
        "brand_id": alert.brand_id,
        "title": alert.title,
        "summary": alert.summary,
        "state": alert.state,
        "raised_at": alert.raised_at,
        "level": alert.level,
        "next_escalation_at": alert.next_escalation_at,
        "acknowledged_by_id": alert.acknowledged_by_id,
        "acknowledged_at": alert.acknowledged_at,
        "resolved_at": alert.resolved_at,
        "is_rehearsal": alert.is_rehearsal,
        "surge": None
        if alert.surge is None
        else {
            "id": alert.surge.pk,
            "metric": alert.surge.metric,
            "started_at": alert.surge.started_at,
            "detected_at": alert.surge.detected_at,
            "window_minutes": alert.surge.window_minutes,
            "observed": alert_actions.finite(alert.surge.observed),
            "expected": alert_actions.finite(alert.surge.expected),
            "ratio": alert_actions.finite(alert.surge.ratio) if alert.surge.expected > 0 else None,
            "p_value": alert.surge.p_value,
        },
        "explanation": None
        if explanation is None
        else {
            "title": explanation.title,
            "what": explanation.what,
            "since": explanation.since,
            "top_terms": explanation.terms,
            "authors": [{"name": a.name, "followers": a.followers} for a in explanation.authors],
            "examples": [{"text": e.text, "author": e.author} for e in explanation.examples],
        },
        "notices": sorted(
            alert.notices.all(), key=lambda notice: (notice.sent_at, notice.pk)
        ),  # prefetched in lists
    }


def _alert(ctx: ApiContext, alert_id: int) -> Alert:
    visible = alert_actions.visible_alerts(ctx.user, ctx.organization).select_related("surge__watch__query")
    return get_object_or_404(visible, pk=alert_id)


def _refused(refused: alert_actions.AlertRefused) -> ApiError:
    if isinstance(refused, alert_actions.NotPermitted):
        return ApiError(403, str(refused), "permission_denied")
    if isinstance(refused, alert_actions.AlreadyDone):
        return ApiError(409, str(refused), "already_done")
    return ApiError(422, str(refused), "alert_refused")


def _brand(ctx: ApiContext, brand_id: int) -> Brand:
    return get_object_or_404(brands_for(ctx.user, ctx.organization), pk=brand_id)


@router.get("/crisis/alerts", response=list[CrisisAlertOut], summary="Crisis alerts, waiting ones first")
@paginate(Pagination)
def list_crisis_alerts(request: HttpRequest, filters: Query[CrisisAlertFilter]) -> Mapped[dict[str, object]]:
    ctx = require(request, Scope.CRISIS_READ)
    found = (
        alert_actions.visible_alerts(ctx.user, ctx.organization)
        .select_related("surge__watch__query", "surge__brand")
        .prefetch_related("notices")
    )
    if filters.state is not None:
        found = found.filter(state=filters.state)
    if filters.brand_id is not None:
        found = found.filter(brand_id=filters.brand_id)
    waiting_first = Case(
        When(state=AlertState.OPEN, then=Value(0)),
        When(state=AlertState.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
    )
    return Mapped(found.order_by(waiting_first, "-raised_at", "-id"), _out)


@router.get(
    "/crisis/alerts/{crisis_alert_id}", response=CrisisAlertOut, summary="One alert: what rose, who was told"
)
def get_crisis_alert(request: HttpRequest, crisis_alert_id: ObjectId) -> dict[str, object]:
    ctx = require(request, Scope.CRISIS_READ)
    return _out(_alert(ctx, crisis_alert_id))


@router.post(
    "/crisis/alerts", response={201: CrisisAlertOut}, summary="Raise an alert by hand: the chain is told"
)
def raise_crisis_alert(request: HttpRequest, payload: CrisisAlertIn) -> Status[dict[str, object]]:
    ctx = require(request, Scope.CRISIS_WRITE)
    brand = _brand(ctx, payload.brand_id)
    try:
        alert = alert_actions.raise_alert(ctx.actor(request), brand, payload.title, payload.summary)
    except alert_actions.AlertRefused as refused:
        raise _refused(refused) from None
    return Status(201, _out(alert))


@router.post(
    "/crisis/alerts/{crisis_alert_id}/acknowledge",
    response=CrisisAlertOut,
    summary="Acknowledge an alert (I am on it): the escalation stops",
)
def acknowledge_crisis_alert(request: HttpRequest, crisis_alert_id: ObjectId) -> dict[str, object]:
    ctx = require(request, Scope.CRISIS_WRITE)
    try:
        alert = alert_actions.acknowledge(ctx.actor(request), _alert(ctx, crisis_alert_id))
    except alert_actions.AlertRefused as refused:
        raise _refused(refused) from None
    return _out(alert)


@router.post("/crisis/alerts/{crisis_alert_id}/resolve", response=CrisisAlertOut, summary="Resolve an alert")
def resolve_crisis_alert(request: HttpRequest, crisis_alert_id: ObjectId) -> dict[str, object]:
    ctx = require(request, Scope.CRISIS_WRITE)
    try:
        alert = alert_actions.resolve(ctx.actor(request), _alert(ctx, crisis_alert_id))
    except alert_actions.AlertRefused as refused:
        raise _refused(refused) from None
    return _out(alert)


def _chain_out(brand: Brand) -> dict[str, object]:
    return {
        "brand_id": brand.pk,
        "steps": list(EscalationStep.objects.filter(brand=brand).order_by("position")),
        "fallback_user_ids": [user.pk for user in escalation.fallback_people(brand)],
        "renotify_minutes": int(escalation.renotify_every().total_seconds() // 60),
    }


@router.get(
    "/brands/{brand_id}/escalation", response=EscalationChainOut, summary="A brand's escalation chain"
)
def get_escalation_chain(request: HttpRequest, brand_id: ObjectId) -> dict[str, object]:
    ctx = require(request, Scope.CRISIS_READ)
    return _chain_out(_brand(ctx, brand_id))


@router.put(
    "/brands/{brand_id}/escalation",
    response=EscalationChainOut,
    summary="Replace a brand's escalation chain (people who work in the brand; managers of the brand only)",
)
def put_escalation_chain(
    request: HttpRequest, brand_id: ObjectId, payload: EscalationChainIn
) -> dict[str, object]:
    ctx = require(request, Scope.CRISIS_WRITE)
    brand = _brand(ctx, brand_id)
    try:
        escalation.set_chain(
            ctx.actor(request),
            brand,
            [escalation.StepInput(s.user_id, s.wait_minutes, s.by_email) for s in payload.steps],
        )
    except alert_actions.AlertRefused as refused:
        raise _refused(refused) from None
    return _chain_out(brand)
