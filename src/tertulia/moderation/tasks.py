"""Moderation's background work: carry out queued network actions, and sweep up what a worker left."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from tertulia.moderation import network
from tertulia.tasks.ticker import every


@db_task()
def execute_action(action_id: int) -> str:
    return network.execute(action_id)


@every(30.0, name="moderation.stalled_actions")
def retry_stalled_actions() -> None:
    """Queued hides, deletes and blocks nobody carried out (a dead worker, a network that failed
    for a moment): try again. Claiming in the database keeps two workers off the same action."""
    for action_id in network.stalled():
        execute_action(action_id)
