from __future__ import annotations

from huey.contrib.djhuey import db_task

from tertulia.connectors import webhooks
from tertulia.tasks.ticker import every


@db_task()
def classify_events(ids: list[int]) -> int:
    return webhooks.classify(ids)


@every(60.0, name="connectors.webhook_sweep")
def sweep_webhook_events() -> None:
    webhooks.sweep()


@every(300.0, name="connectors.token_health")
def refresh_expiring_credentials() -> None:
    from tertulia.connectors.health import refresh_due

    refresh_due()
