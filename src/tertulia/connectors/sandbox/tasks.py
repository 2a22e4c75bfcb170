"""Ticker jobs of the sandbox network (the worker imports every app's `tasks`)."""

from __future__ import annotations

from tertulia.connectors.sandbox.simulator.pump import run_due_ticks
from tertulia.tasks.ticker import every


@every(2.0, name="sandbox.pump")
def pump_simulations() -> None:
    run_due_ticks()
