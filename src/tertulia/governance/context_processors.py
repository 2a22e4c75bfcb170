"""The number next to "Team" in the navigation: channels with a backup coverage gap."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tertulia.core.permissions import Perm
from tertulia.governance.coverage import channels_with_gaps
from tertulia.web.tenant import get_tenant


def coverage(request: HttpRequest) -> dict[str, Any]:
    """Only for people who may see the governance page (it needs Perm.VIEW_AUDIT)."""
    if not request.user.is_authenticated:
        return {}
    tenant = get_tenant(request)
    if tenant.organization is None or not tenant.can(Perm.VIEW_AUDIT):
        return {}
    if getattr(request, "htmx", False):
        return {}  # fragments never show the navigation
    return {"coverage_gap_count": channels_with_gaps(tenant.organization)}
