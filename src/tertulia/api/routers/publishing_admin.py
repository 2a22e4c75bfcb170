"""Running publishing: pauses (crisis mode holds every delivery) and each brand's approval workflows.
The same as Settings → Publishing and the Crisis page.

Reading needs `posts:read`; pausing, resuming and changing a workflow need `publishing:manage`
(brand managers, admins, owners). Resuming releases held deliveries at once: cancel or reschedule
a post first to stop it. Another organization's ids are 404.
"""

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.publishing_schemas import PauseIn, PauseOut, ResumeOut, WorkflowIn, WorkflowOut
from tertulia.api.schemas import MAX_ID, ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.models import Brand
from tertulia.core.permissions import Perm, has_perm
from tertulia.crisis import mode
from tertulia.crisis.models import Crisis, CrisisState
from tertulia.publishing.actions import pauses, workflows
from tertulia.publishing.approvals import in_crisis
from tertulia.publishing.models import ApprovalWorkflow, Pause, WorkflowKind

router = Router(tags=["publishing"])


class PauseFilter(Schema):
    brand_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Pauses that hold this brand: its own and the organization's."
    )


def _brand(ctx: ApiContext, brand_id: int) -> Brand:
    return get_object_or_404(ctx.brands(), pk=brand_id)


def _pause_out(pause: Pause) -> dict[str, Any]:
    held = 0
    if pause.ended_at is None:
        held = pauses.held(pause.organization, pause.brand).count()
    return {
        "id": pause.pk,
        "brand_id": pause.brand_id,
        "is_crisis": pause.is_crisis,
        "reason": pause.reason,
        "started_by_id": pause.started_by_id,
        "started_at": pause.started_at,
        "ended_by_id": pause.ended_by_id,
        "ended_at": pause.ended_at,
        "held": held,
    }


def _manager_refusal(ctx: ApiContext, detail: str, status: int, code: str) -> ApiError:
    if not has_perm(ctx.user, ctx.organization, Perm.MANAGE_PUBLISHING):
        return ApiError(403, detail, "permission_denied")
    return ApiError(status, detail, code)


# ---------------------------------------------------------------- pauses


@router.get(
    "/publishing/pauses",
    response=list[PauseOut],
    summary="Active pauses of publishing, newest first, with how many deliveries each holds",
)
@paginate(Pagination)
def list_pauses(request: HttpRequest, filters: Query[PauseFilter]) -> list[dict[str, Any]]:
    ctx = require(request, Scope.POSTS_READ)
    found: QuerySet[Pause] = ctx.restrict(
        Pause.objects.filter(ended_at__isnull=True).select_related("organization", "brand"), org_wide=True
    )
    if filters.brand_id is not None:
        found = found.filter(Q(brand_id=filters.brand_id) | Q(brand__isnull=True))
    return [_pause_out(pause) for pause in found.order_by("-started_at", "-id")]


@router.post(
    "/publishing/pauses",
    response={200: PauseOut, 201: PauseOut},
    summary="Hold publishing for a brand or every brand (crisis mode with `crisis`)",
    description=(
        "201: a new pause. 200: publishing was already paused there; that pause is returned (with "
        "crisis mode turned on if asked). While a pause is on, deliveries that come due wait; one about "
        "to be sent is stopped at the instant before the network call."
    ),
)
def create_pause(request: HttpRequest, payload: PauseIn) -> Status[dict[str, Any]]:
    ctx = require(request, Scope.PUBLISHING_MANAGE)
    brand = _brand(ctx, payload.brand_id) if payload.brand_id is not None else None
    already = Pause.objects.filter(organization=ctx.organization, brand=brand, ended_at__isnull=True).first()
    try:
        if payload.crisis:
            # Crisis mode is one switch (tertulia.crisis.mode): the pause, and the crisis room it opens.
            crisis = mode.start_crisis(
                ctx.actor(request),
                ctx.organization,
                brand,
                payload.reason.strip()[: mode.MAX_TITLE] or _("Crisis mode"),
            )
            done = Pause.objects.get(pk=crisis.pause_id or 0)
        else:
            done = pauses.pause(ctx.actor(request), ctx.organization, brand, reason=payload.reason)
    except (pauses.PauseRefused, mode.CrisisRefused) as refused:
        raise _manager_refusal(ctx, str(refused), 422, "pause_refused") from None
    done = Pause.objects.select_related("organization", "brand").get(pk=done.pk)
    return Status(200 if already is not None and already.pk == done.pk else 201, _pause_out(done))


@router.post(
    "/publishing/pauses/{pause_id}/resume",
    response=ResumeOut,
    summary="Resume publishing: held deliveries go out at once",
    description="`released` counts the deliveries that were held and go out now.",
)
def resume_pause(request: HttpRequest, pause_id: ObjectId) -> dict[str, Any]:
    ctx = require(request, Scope.PUBLISHING_MANAGE)
    paused = get_object_or_404(
        ctx.restrict(Pause.objects.select_related("organization", "brand"), org_wide=True), pk=pause_id
    )
    released = _pause_out(paused)["held"]
    crisis = Crisis.objects.filter(pause=paused, state=CrisisState.ACTIVE).first()
    try:
        if crisis is not None:
            # Resuming the pause of an active crisis ends that crisis (one switch).
            mode.end_crisis(ctx.actor(request), crisis, resume_publishing=True)
            done = Pause.objects.get(pk=paused.pk)
        else:
            done = pauses.resume(ctx.actor(request), paused)
    except (pauses.PauseRefused, mode.CrisisRefused) as refused:
        raise _manager_refusal(ctx, str(refused), 409, "wrong_state") from None
    done = Pause.objects.select_related("organization", "brand").get(pk=done.pk)
    return {**_pause_out(done), "released": released}


# ---------------------------------------------------------------- approval workflows


def _workflow_out(brand: Brand, kind: WorkflowKind) -> dict[str, Any]:
    workflow = (
        ApprovalWorkflow.objects.filter(brand=brand, kind=kind).prefetch_related("steps__people").first()
    )
    steps = []
    if workflow is not None:
        steps = [
            {
                "position": step.position,
                "name": step.name,
                "mode": step.mode,
                "roles": list(step.roles or []),
                "people": sorted(person.pk for person in step.people.all()),
            }
            for step in workflow.steps.all()
        ]
    applies = workflow is not None and workflow.is_active and bool(steps)
    return {
        "brand_id": brand.pk,
        "kind": kind,
        "configured": workflow is not None,
        "is_active": workflow is not None and workflow.is_active,
        "in_force": applies and in_crisis(brand) == (kind == WorkflowKind.CRISIS),
        "steps": steps,
    }


@router.get(
    "/brands/{brand_id}/approval-workflows/{kind}",
    response=WorkflowOut,
    summary="A brand's everyday (`normal`) or crisis mode (`crisis`) approval workflow",
    description=(
        "Without one, the built-in rules apply: a contributor's post needs one approval by someone who "
        "may publish; in crisis mode, one by a brand manager, admin or owner other than the author."
    ),
)
def get_approval_workflow(request: HttpRequest, brand_id: ObjectId, kind: WorkflowKind) -> dict[str, Any]:
    ctx = require(request, Scope.POSTS_READ)
    return _workflow_out(_brand(ctx, brand_id), kind)


@router.put(
    "/brands/{brand_id}/approval-workflows/{kind}",
    response=WorkflowOut,
    summary="Set a brand's approval workflow, steps and all",
    description=(
        "Posts sent for review from now on go through it; posts already in review keep their step "
        "position and meet the new steps from there. Every problem is listed in `errors`."
    ),
)
def put_approval_workflow(
    request: HttpRequest, brand_id: ObjectId, kind: WorkflowKind, payload: WorkflowIn
) -> dict[str, Any]:
    ctx = require(request, Scope.PUBLISHING_MANAGE)
    brand = _brand(ctx, brand_id)
    steps = [
        workflows.StepSpec(
            name=step.name,
            mode=str(step.mode),
            roles=tuple(str(role) for role in step.roles),
            people=tuple(step.people),
        )
        for step in payload.steps
    ]
    try:
        workflows.set_workflow(ctx.actor(request), brand, kind, steps, is_active=payload.is_active)
    except workflows.WorkflowRefused as refused:
        error = _manager_refusal(ctx, str(refused), 422, "validation_error")
        if error.status == 422:
            error.extra["errors"] = [
                {"loc": ["body", "steps"], "msg": message, "type": "invalid"} for message in refused.messages
            ]
        raise error from None
    return _workflow_out(brand, kind)
