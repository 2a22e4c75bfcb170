"""Brands and their planning profile: competitors and objectives."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import (
    BrandIn,
    BrandOut,
    BrandPatch,
    CompetitorIn,
    CompetitorOut,
    CompetitorPatch,
    ObjectId,
    ObjectiveIn,
    ObjectiveOut,
    ObjectivePatch,
)
from tertulia.api.scopes import Scope
from tertulia.core.actions import brands as actions
from tertulia.core.models import Brand, Competitor, Objective
from tertulia.core.permissions import covers_all_brands

router = Router(tags=["brands"])


def _brands(ctx: ApiContext) -> QuerySet[Brand]:
    """The organization's brands the caller works in: another brand's id is not found."""
    return ctx.brands()


# ---------------------------------------------------------------- brands


@router.get("/brands", response=list[BrandOut], summary="List brands")
@paginate(Pagination)
def list_brands(request: HttpRequest, archived: bool | None = None) -> QuerySet[Brand]:
    ctx = require(request, Scope.BRANDS_READ)
    brands = _brands(ctx).order_by("name", "id")
    if archived is not None:
        brands = brands.filter(is_archived=archived)
    return brands


@router.get("/brands/{brand_id}", response=BrandOut, summary="One brand")
def get_brand(request: HttpRequest, brand_id: ObjectId) -> Brand:
    ctx = require(request, Scope.BRANDS_READ)
    return get_object_or_404(_brands(ctx), pk=brand_id)


@router.post(
    "/brands", response={201: BrandOut}, summary="Create a brand (its slug is derived from the name)"
)
def create_brand(request: HttpRequest, payload: BrandIn) -> Status[Brand]:
    ctx = require(request, Scope.BRANDS_WRITE)
    if not covers_all_brands(ctx.user, ctx.organization):
        raise ApiError(403, _("Only people who work in every brand can create brands."), "permission_denied")
    return Status(201, actions.create_brand(ctx.actor(request), ctx.organization, **payload.model_dump()))


@router.patch("/brands/{brand_id}", response=BrandOut, summary="Change a brand")
def update_brand(request: HttpRequest, brand_id: ObjectId, payload: BrandPatch) -> Brand:
    ctx = require(request, Scope.BRANDS_WRITE)
    brand = get_object_or_404(_brands(ctx), pk=brand_id)
    return actions.update_brand(ctx.actor(request), brand, **payload.model_dump(exclude_unset=True))


# ---------------------------------------------------------------- competitors


def _competitors(ctx: ApiContext) -> QuerySet[Competitor]:
    return ctx.restrict(Competitor.objects.select_related("brand__organization"))


@router.get(
    "/brands/{brand_id}/competitors", response=list[CompetitorOut], summary="List a brand's competitors"
)
@paginate(Pagination)
def list_competitors(request: HttpRequest, brand_id: ObjectId) -> QuerySet[Competitor]:
    ctx = require(request, Scope.BRANDS_READ)
    brand = get_object_or_404(_brands(ctx), pk=brand_id)
    return brand.competitors.order_by("name", "id")


@router.post("/brands/{brand_id}/competitors", response={201: CompetitorOut}, summary="Add a competitor")
def create_competitor(request: HttpRequest, brand_id: ObjectId, payload: CompetitorIn) -> Status[Competitor]:
    ctx = require(request, Scope.BRANDS_WRITE)
    brand = get_object_or_404(_brands(ctx), pk=brand_id)
    return Status(201, actions.add_competitor(ctx.actor(request), brand, **payload.model_dump()))


@router.get("/competitors/{competitor_id}", response=CompetitorOut, summary="One competitor")
def get_competitor(request: HttpRequest, competitor_id: ObjectId) -> Competitor:
    ctx = require(request, Scope.BRANDS_READ)
    return get_object_or_404(_competitors(ctx), pk=competitor_id)


@router.patch("/competitors/{competitor_id}", response=CompetitorOut, summary="Change a competitor")
def update_competitor(request: HttpRequest, competitor_id: ObjectId, payload: CompetitorPatch) -> Competitor:
    ctx = require(request, Scope.BRANDS_WRITE)
    competitor = get_object_or_404(_competitors(ctx), pk=competitor_id)
    return actions.update_competitor(ctx.actor(request), competitor, **payload.model_dump(exclude_unset=True))


@router.delete("/competitors/{competitor_id}", response={204: None}, summary="Remove a competitor")
def delete_competitor(request: HttpRequest, competitor_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.BRANDS_WRITE)
    competitor = get_object_or_404(_competitors(ctx), pk=competitor_id)
    actions.remove_competitor(ctx.actor(request), competitor)
    return Status(204, None)


# ---------------------------------------------------------------- objectives


def _objectives(ctx: ApiContext) -> QuerySet[Objective]:
    return ctx.restrict(Objective.objects.select_related("brand__organization"))


@router.get("/brands/{brand_id}/objectives", response=list[ObjectiveOut], summary="List a brand's objectives")
@paginate(Pagination)
def list_objectives(request: HttpRequest, brand_id: ObjectId) -> QuerySet[Objective]:
    ctx = require(request, Scope.BRANDS_READ)
    brand = get_object_or_404(_brands(ctx), pk=brand_id)
    return brand.objectives.order_by("period_start", "title", "id")


@router.post("/brands/{brand_id}/objectives", response={201: ObjectiveOut}, summary="Add an objective")
def create_objective(request: HttpRequest, brand_id: ObjectId, payload: ObjectiveIn) -> Status[Objective]:
    ctx = require(request, Scope.BRANDS_WRITE)
    brand = get_object_or_404(_brands(ctx), pk=brand_id)
    return Status(201, actions.add_objective(ctx.actor(request), brand, **payload.model_dump()))


@router.get("/objectives/{objective_id}", response=ObjectiveOut, summary="One objective")
def get_objective(request: HttpRequest, objective_id: ObjectId) -> Objective:
    ctx = require(request, Scope.BRANDS_READ)
    return get_object_or_404(_objectives(ctx), pk=objective_id)


@router.patch("/objectives/{objective_id}", response=ObjectiveOut, summary="Change an objective")
def update_objective(request: HttpRequest, objective_id: ObjectId, payload: ObjectivePatch) -> Objective:
    ctx = require(request, Scope.BRANDS_WRITE)
    objective = get_object_or_404(_objectives(ctx), pk=objective_id)
    return actions.update_objective(ctx.actor(request), objective, **payload.model_dump(exclude_unset=True))


@router.delete("/objectives/{objective_id}", response={204: None}, summary="Remove an objective")
def delete_objective(request: HttpRequest, objective_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.BRANDS_WRITE)
    objective = get_object_or_404(_objectives(ctx), pk=objective_id)
    actions.remove_objective(ctx.actor(request), objective)
    return Status(204, None)
