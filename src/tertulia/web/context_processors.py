from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tertulia.core.models import Brand, Channel, ChannelStatus, Organization
from tertulia.core.permissions import Perm, organizations_of, restrict
from tertulia.inbox.models import Notification
from tertulia.web.tenant import get_tenant


def tenant(request: HttpRequest) -> dict[str, Any]:
    if not request.user.is_authenticated:
        return {}
    current = get_tenant(request)
    organizations: list[Organization] = list(organizations_of(request.user))
    brands: list[Brand] = list(current.brands())
    needing_reconnect: list[Channel] = []
    if current.organization and Perm.MANAGE_CHANNELS in current.perms:
        needing_reconnect = list(
            restrict(Channel.objects.all(), request.user, current.organization, Perm.MANAGE_CHANNELS).filter(
                status=ChannelStatus.NEEDS_RECONNECT
            )
        )
    unread = (
        Notification.objects.filter(
            user=request.user, organization=current.organization, read_at__isnull=True
        ).count()
        if current.organization
        else 0
    )
    return {
        "unread_notifications": unread,
        "channels_needing_reconnect": needing_reconnect,
        "tenant": current,
        "current_org": current.organization,
        "current_brand": current.brand,
        "my_organizations": organizations,
        "my_brands": brands,
        "perms": {p.value: (p in current.perms) for p in Perm},
    }
