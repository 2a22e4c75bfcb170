"""The sandbox's only look into Tertulia: which organizations to wake when traffic arrives.

Kept here, imported lazily, so the network and the simulator know nothing of
Tertulia's core and could be lifted out as they are.
"""

from __future__ import annotations

from collections.abc import Iterable


def organizations_watching(handles: Iterable[str]) -> set[int]:
    from tertulia.core.models import Channel

    wanted = list(handles)
    if not wanted:
        return set()
    return set(
        Channel.objects.filter(network="sandbox", handle__in=wanted).values_list("organization_id", flat=True)
    )


def notify_inbox(handles: Iterable[str]) -> None:
    """Tell the organizations with a channel on these accounts that their inbox has news."""
    from tertulia.live.publish import notify_organization

    for organization_id in sorted(organizations_watching(handles)):
        notify_organization(organization_id, "inbox")
