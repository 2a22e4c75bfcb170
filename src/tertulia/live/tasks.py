from __future__ import annotations

from tertulia.live.brokers import get_broker
from tertulia.tasks.ticker import every


@every(60.0, name="live.prune")
def prune_live_events() -> None:
    get_broker().prune()
