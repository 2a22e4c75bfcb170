"""Two workers pumping the same simulation at the same moment generate each tick once.

Real threads with their own database connections (`transaction=True`). A
barrier makes both read the same `last_tick` before either claims, so only the
conditional UPDATE can keep them from generating the same ticks twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from tertulia.connectors.sandbox.models import SandboxMessage, SandboxPost
from tertulia.connectors.sandbox.simulator import control, pump
from tertulia.connectors.sandbox.simulator.planner import plan_tick


@pytest.mark.django_db(transaction=True)
def test_two_workers_claim_each_tick_once(monkeypatch):
    if connection.vendor == "sqlite":
        # Django's SQLite test database is in memory with a shared cache, whose table
        # locks fail at once instead of waiting (the real, file-based database waits).
        # The conditional UPDATE itself is exercised there by test_a_stale_claim_loses.
        pytest.skip("needs a database whose writers wait for each other (PostgreSQL)")
    simulation = control.ensure_simulation(["marca_race"], seed=99, rate_per_minute=60)
    now = simulation.started_at + timedelta(seconds=40)  # 20 ticks: one chunk each worker wants
    real_claim = pump.claim
    barrier = threading.Barrier(2)
    claims: list[bool] = []

    def racing_claim(simulation_id: int, seen: int, new: int) -> bool:
        barrier.wait(timeout=30)
        won = real_claim(simulation_id, seen, new)
        claims.append(won)
        return won

    monkeypatch.setattr(pump, "claim", racing_claim)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(pump.run_due_ticks(now))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    expected = sum(len(plan_tick(99, n, 60, ["marca_race"]).messages) for n in range(1, 21))
    written = (
        SandboxPost.objects.filter(meta__simulation=simulation.pk).exclude(meta__category="brand").count()
        + SandboxMessage.objects.filter(meta__simulation=simulation.pk).count()
    )
    assert sorted(results) == [0, expected]
    assert written == expected
    assert sorted(claims) == [False, True]
