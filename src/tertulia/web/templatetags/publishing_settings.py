"""The "publishing is paused" banner's question, asked from any page that includes the banner.

`web/partials/publishing_paused.html` loads this, so a page shows the banner with one include and
no change to its view.
"""

from __future__ import annotations

from django import template
from django.db.models import Q

from tertulia.publishing.models import Pause
from tertulia.web.tenant import Tenant

register = template.Library()


@register.simple_tag(takes_context=True)
def publishing_pauses_here(context: template.Context) -> list[Pause]:
    """Active pauses that hold the current brand: its own, and any of the whole organization."""
    tenant = context.get("tenant")
    if not isinstance(tenant, Tenant) or tenant.organization is None:
        return []
    scope = Q(brand__isnull=True)
    if tenant.brand is not None:
        scope |= Q(brand=tenant.brand)
    return list(
        Pause.objects.filter(scope, organization=tenant.organization, ended_at__isnull=True).select_related(
            "brand", "started_by"
        )
    )
