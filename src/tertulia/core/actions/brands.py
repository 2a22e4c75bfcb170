from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from tertulia.core.actions.audit import apply_changes, record, snapshot
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Competitor, Objective, Organization
from tertulia.live.publish import notify_organization

BRAND_FIELDS = ["name", "language", "timezone", "voice_guide", "audience", "reach_threshold", "is_archived"]
COMPETITOR_FIELDS = ["name", "handles", "website", "notes"]
OBJECTIVE_FIELDS = ["title", "kpi", "direction", "target", "period_start", "period_end"]


def unique_brand_slug(organization: Organization, name: str, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:50] or "brand"
    slug, n = base, 1
    taken = Brand.objects.filter(organization=organization)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _only(values: Mapping[str, Any], allowed: list[str]) -> dict[str, Any]:
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    return dict(values)


@transaction.atomic
def create_brand(actor: Actor, organization: Organization, **values: Any) -> Brand:
    values = _only(values, BRAND_FIELDS)
    brand = Brand(organization=organization, slug=unique_brand_slug(organization, values["name"]), **values)
    brand.full_clean()
    brand.save()
    record(actor, organization, "brand.create", brand, snapshot(brand, ["slug", *values]))
    notify_organization(organization.pk, "brands")
    return brand


@transaction.atomic
def update_brand(actor: Actor, brand: Brand, **values: Any) -> Brand:
    changes = apply_changes(brand, _only(values, BRAND_FIELDS))
    if changes:
        brand.full_clean()
        brand.save()
        record(actor, brand.organization, "brand.update", brand, changes)
        notify_organization(brand.organization_id, "brands")
    return brand


@transaction.atomic
def add_competitor(actor: Actor, brand: Brand, **values: Any) -> Competitor:
    values = _only(values, COMPETITOR_FIELDS)
    competitor = Competitor(brand=brand, **values)
    competitor.full_clean()
    competitor.save()
    record(actor, brand.organization, "competitor.create", competitor, snapshot(competitor, list(values)))
    notify_organization(brand.organization_id, "brands")
    return competitor


@transaction.atomic
def update_competitor(actor: Actor, competitor: Competitor, **values: Any) -> Competitor:
    changes = apply_changes(competitor, _only(values, COMPETITOR_FIELDS))
    if changes:
        competitor.full_clean()
        competitor.save()
        record(actor, competitor.brand.organization, "competitor.update", competitor, changes)
        notify_organization(competitor.brand.organization_id, "brands")
    return competitor


@transaction.atomic
def remove_competitor(actor: Actor, competitor: Competitor) -> None:
    organization = competitor.brand.organization
    record(actor, organization, "competitor.delete", competitor, {"name": [competitor.name, None]})
    competitor.delete()
    notify_organization(organization.pk, "brands")


@transaction.atomic
def add_objective(actor: Actor, brand: Brand, **values: Any) -> Objective:
    values = _only(values, OBJECTIVE_FIELDS)
    objective = Objective(brand=brand, **values)
    objective.full_clean()
    objective.save()
    record(actor, brand.organization, "objective.create", objective, snapshot(objective, list(values)))
    notify_organization(brand.organization_id, "brands")
    return objective


@transaction.atomic
def update_objective(actor: Actor, objective: Objective, **values: Any) -> Objective:
    changes = apply_changes(objective, _only(values, OBJECTIVE_FIELDS))
    if changes:
        objective.full_clean()
        objective.save()
        record(actor, objective.brand.organization, "objective.update", objective, changes)
        notify_organization(objective.brand.organization_id, "brands")
    return objective


@transaction.atomic
def remove_objective(actor: Actor, objective: Objective) -> None:
    organization = objective.brand.organization
    record(actor, organization, "objective.delete", objective, {"title": [objective.title, None]})
    objective.delete()
    notify_organization(organization.pk, "brands")
