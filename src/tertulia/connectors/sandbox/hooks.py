"""The sandbox's only look into Tertulia: which channels to read when traffic arrives.

Kept here, imported lazily, so the network and the simulator know nothing of
Tertulia's core and could be lifted out as they are.
"""

from __future__ import annotations

from collections.abc import Iterable


def notify_inbox(handles: Iterable[str]) -> None:
    """Have the inbox read the channels on these accounts at its next tick (as a webhook would)."""
    from tertulia.core.models import Channel
    from tertulia.inbox.ingest.poller import wake

    wanted = list(handles)
    if wanted:
        wake(list(Channel.objects.filter(network="sandbox", handle__in=wanted).values_list("pk", flat=True)))
