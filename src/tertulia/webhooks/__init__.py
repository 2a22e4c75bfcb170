"""Outgoing webhooks: an organization's endpoints get signed notices of what happens (docs/outbound.md).

Other apps call `emit` inside the transaction that did the thing; the deliveries are stored with it
and sent after it commits, by the task queue, with retries:

    from tertulia import webhooks

    webhooks.emit(organization, "security.post_held", {"summary": "...", "post": {"id": 12}})

The event types are in `tertulia.webhooks.events` (`register` adds one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tertulia.core.models import Organization


def emit(organization: Organization, event_type: str, payload: Mapping[str, Any]) -> int:
    """Queue `event_type` with `payload` for every active endpoint of `organization` that wants it.

    Returns how many deliveries were queued. They are sent only if the current transaction
    commits; ValueError for an event type nobody registered or a payload that is not JSON.
    """
    from tertulia.webhooks.delivery import emit as emit_event

    return emit_event(organization, event_type, payload)


__all__ = ["emit"]
