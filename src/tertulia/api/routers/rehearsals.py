"""Crisis rehearsals on the sandbox network (the same as Crisis → Stage a simulated crisis)."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status

from tertulia.api.auth import require
from tertulia.api.errors import ApiError
from tertulia.api.schemas import ObjectId, RehearsalIn, RehearsalOut
from tertulia.api.scopes import Scope
from tertulia.connectors.sandbox.models import SandboxCrisis
from tertulia.core.actions.rehearsals import NoSandboxChannel, rehearsals_for, stage_rehearsal

router = Router(tags=["rehearsals"])


@router.get(
    "/brands/{brand_id}/rehearsals", response=list[RehearsalOut], summary="Recent rehearsals, newest first"
)
def list_rehearsals(request: HttpRequest, brand_id: ObjectId) -> list[SandboxCrisis]:
    ctx = require(request, Scope.BRANDS_READ)
    return rehearsals_for(get_object_or_404(ctx.brands(), pk=brand_id))


@router.post(
    "/brands/{brand_id}/rehearsals",
    response={201: RehearsalOut},
    summary="Stage a simulated crisis on the brand's sandbox channels",
)
def create_rehearsal(request: HttpRequest, brand_id: ObjectId, payload: RehearsalIn) -> Status[SandboxCrisis]:
    ctx = require(request, Scope.SIMULATIONS_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    try:
        crisis = stage_rehearsal(
            ctx.actor(request), brand, payload.topic or None, payload.minutes, payload.multiplier
        )
    except NoSandboxChannel:
        raise ApiError(
            422, _("This brand has no sandbox channel to rehearse on."), "no_sandbox_channel"
        ) from None
    return Status(201, crisis)
