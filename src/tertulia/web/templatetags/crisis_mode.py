"""The crisis banner's question, asked from every page (web/crisis/mode_banner.html, in the base)."""

from __future__ import annotations

from django import template
from django.db.models import Q

from tertulia.crisis.models import Crisis, CrisisState
from tertulia.web.tenant import Tenant

register = template.Library()


@register.simple_tag(takes_context=True)
def crises_here(context: template.Context) -> list[Crisis]:
    """Active crises that hold the current brand: its own, and the whole organization's (one query)."""
    tenant = context.get("tenant")
    if not isinstance(tenant, Tenant) or tenant.organization is None or tenant.membership is None:
        return []
    scope = Q(brand__isnull=True)
    if tenant.brand is not None:
        scope |= Q(brand=tenant.brand)
    return list(
        Crisis.objects.filter(scope, organization=tenant.organization, state=CrisisState.ACTIVE)
        .select_related("brand")
        .order_by("opened_at", "id")
    )
