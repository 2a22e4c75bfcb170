"""The inbox's background work: read channels that are due, take webhook events, sweep clocks."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from tertulia.inbox import delivery
from tertulia.inbox.actions.status import wake_snoozed
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


@db_task()
def deliver_reply(message_id: int, retrying: bool = False) -> str:
    return delivery.deliver(message_id, retrying=retrying)


@every(30.0, name="inbox.stalled_replies")
def retry_stalled_replies() -> None:
    """Replies a worker did not finish (or the network refused for now): try again, reconciling first."""
    for message_id in delivery.stalled():
        deliver_reply(message_id, retrying=True)


@every(30.0, name="inbox.wake_snoozed")
def wake_snoozed_conversations() -> None:
    wake_snoozed()


@every(30.0, name="inbox.sla_sweep")
def sweep_sla_clocks() -> None:
    """Warn before answers are due, escalate overdue conversations (tertulia.inbox.sla_sweep)."""
    from tertulia.inbox.sla_sweep import sweep_all

    sweep_all()
