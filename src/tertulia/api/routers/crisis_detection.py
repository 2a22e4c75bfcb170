"""Surge detection: the watches (a brand's inbound messages, a listening query's matches) with their
sensitivity and what the detector learned, changing a watch's sensitivity, and the surges found with
their explanation (docs/crisis-detection.md).

Only the brands the caller works in; anything else is a 404. Reading needs `crisis:read`; changing a
sensitivity needs `crisis:write` and a role that manages the brand.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tertulia.api.auth import require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Mapped, Pagination
from tertulia.api.schemas import MAX_ID, Input, ObjectId
from tertulia.api.scopes import Scope
from tertulia.crisis.detection import settings as detection
from tertulia.crisis.detection.baseline import Baseline
from tertulia.crisis.models import Sensitivity, Surge, Watch

router = Router(tags=["crisis"])


class SurgeWatchOut(Schema):
    id: int
    brand_id: int
    kind: str = Field(
        ..., description="brand: everything the brand's channels receive; query: a listening query."
    )
    query_id: int | None
    query_name: str | None
    sensitivity: Sensitivity
    is_active: bool
    learning: bool = Field(..., description="True while there is too little history to test (under 3 hours).")
    usual_per_hour: list[float] = Field(
        ...,
        description="Expected messages per hour of the day on the brand's clock (its time zone).",
    )
    negative_share: float | None
    counted_until: datetime | None
    evaluated_at: datetime | None


class WatchSensitivityIn(Input):
    sensitivity: Sensitivity


class DetectedSurgeOut(Schema):
    id: int
    brand_id: int
    watch_id: int
    metric: str
    started_at: datetime
    detected_at: datetime
    ended_at: datetime | None
    window_minutes: int
    observed: float
    expected: float
    ratio: float | None = Field(..., description="observed / expected (null when nothing was expected).")
    p_value: float
    is_rehearsal: bool
    explanation: dict[str, Any] = Field(
        ..., description="metric, observed, expected, ratio, top_terms, authors, examples (texts verbatim)."
    )


class SurgeFilter(Schema):
    brand_id: int | None = Field(None, ge=1, le=MAX_ID)
    watch_id: int | None = Field(None, ge=1, le=MAX_ID)
    open: bool | None = Field(None, description="true: only surges not over yet; false: only ended ones.")


def _watch_out(watch: Watch) -> dict[str, object]:
    baseline = Baseline.from_json(watch.baseline)
    return {
        "id": watch.pk,
        "brand_id": watch.brand_id,
        "kind": watch.kind,
        "query_id": watch.query_id,
        "query_name": watch.query.name if watch.query is not None else None,
        "sensitivity": watch.sensitivity,
        "is_active": watch.is_active,
        "learning": not baseline.ready,
        "usual_per_hour": [round(value, 2) for value in baseline.daily_profile()],
        "negative_share": round(baseline.negative_share, 4) if baseline.ready else None,
        "counted_until": watch.counted_until,
        "evaluated_at": watch.evaluated_at,
    }


def _finite(value: float) -> float:
    return value if value == value and abs(value) != float("inf") else 0.0


def _surge_out(surge: Surge) -> dict[str, object]:
    return {
        "id": surge.pk,
        "brand_id": surge.brand_id,
        "watch_id": surge.watch_id,
        "metric": surge.metric,
        "started_at": surge.started_at,
        "detected_at": surge.detected_at,
        "ended_at": surge.ended_at,
        "window_minutes": surge.window_minutes,
        "observed": _finite(surge.observed),
        "expected": _finite(surge.expected),
        "ratio": _finite(surge.ratio) if surge.expected > 0 else None,
        "p_value": surge.p_value,
        "is_rehearsal": surge.is_rehearsal,
        "explanation": surge.explanation if isinstance(surge.explanation, dict) else {},
    }


@router.get("/crisis/watches", response=list[SurgeWatchOut], summary="What the surge detector watches")
def list_crisis_watches(request: HttpRequest) -> list[dict[str, object]]:
    ctx = require(request, Scope.CRISIS_READ)
    return [_watch_out(watch) for watch in detection.watches_for(ctx.user, ctx.organization)]


@router.patch("/crisis/watches/{watch_id}", response=SurgeWatchOut, summary="Change a watch's sensitivity")
def update_crisis_watch(
    request: HttpRequest, watch_id: ObjectId, payload: WatchSensitivityIn
) -> dict[str, object]:
    ctx = require(request, Scope.CRISIS_WRITE)
    watch = get_object_or_404(detection.watches_for(ctx.user, ctx.organization), pk=watch_id)
    if not detection.may_change(ctx.user, watch):
        raise ApiError(403, str(detection.NOT_ALLOWED), "permission_denied")
    try:
        detection.set_sensitivity(ctx.actor(request), watch, payload.sensitivity)
    except detection.SensitivityRefused as refused:
        raise ApiError(422, str(refused), "sensitivity_refused") from refused
    return _watch_out(get_object_or_404(detection.watches_for(ctx.user, ctx.organization), pk=watch_id))


@router.get("/crisis/surges", response=list[DetectedSurgeOut], summary="Surges found, newest first")
@paginate(Pagination)
def list_crisis_surges(request: HttpRequest, filters: Query[SurgeFilter]) -> Mapped[dict[str, object]]:
    ctx = require(request, Scope.CRISIS_READ)
    found = detection.surges_for(ctx.user, ctx.organization)
    if filters.brand_id is not None:
        found = found.filter(brand_id=filters.brand_id)
    if filters.watch_id is not None:
        found = found.filter(watch_id=filters.watch_id)
    if filters.open is not None:
        found = found.filter(ended_at__isnull=filters.open)
    return Mapped(found, _surge_out)


@router.get("/crisis/surges/{surge_id}", response=DetectedSurgeOut, summary="One surge with its explanation")
def get_crisis_surge(request: HttpRequest, surge_id: ObjectId) -> dict[str, object]:
    ctx = require(request, Scope.CRISIS_READ)
    return _surge_out(get_object_or_404(detection.surges_for(ctx.user, ctx.organization), pk=surge_id))
