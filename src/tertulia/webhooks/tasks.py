"""The webhooks' background work: one attempt per task; the ticker hands due retries to the queue."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from tertulia.tasks.ticker import every
from tertulia.webhooks import delivery


@db_task()
def deliver_webhook(delivery_id: int) -> str:
    return delivery.deliver(delivery_id)


@every(10.0, name="webhooks.due")
def queue_due_deliveries() -> None:
    for delivery_id in delivery.due():
        deliver_webhook(delivery_id)


@every(3600.0, name="webhooks.prune")
def prune_old_deliveries() -> None:
    delivery.prune()
