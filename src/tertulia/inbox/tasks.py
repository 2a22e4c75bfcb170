"""The inbox's background work: read channels that are due, take webhook events, sweep clocks."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from tertulia.inbox.ingest import events, poller
from tertulia.tasks.ticker import every


@db_task()
def poll_channel(cursor_id: int) -> int:
    return poller.poll(cursor_id)


@every(2.0, name="inbox.poll_due")
def poll_due_channels() -> None:
    """Claim the channels due for reading and hand each to a worker thread."""
    poller.ensure_cursors()
    for cursor_id in poller.claim_due():
        poll_channel(cursor_id)


@every(2.0, name="inbox.webhook_events")
def take_webhook_events() -> None:
    events.take_ready_events()
