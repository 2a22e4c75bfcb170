"""The ticker runs each job every period; a job with an offset runs at that second of each period of the
wall clock (the crisis detector: 5 s after each minute ends)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tertulia.tasks import ticker
from tertulia.tasks.ticker import Job, run_due

MINUTE = 1_700_000_040.0  # a wall-clock time at the start of a minute


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Job]]:
    registered: dict[str, Job] = {}
    monkeypatch.setattr(ticker, "JOBS", registered)
    # The ticker closes stale database connections around each job; these jobs touch no database.
    monkeypatch.setattr(ticker, "close_old_connections", lambda: None)
    yield registered


def test_a_plain_job_runs_every_period(jobs: dict[str, Job]) -> None:
    calls: list[float] = []
    ticker.every(10.0, name="plain")(lambda: calls.append(1))
    for second in range(0, 35):
        run_due(now=1000.0 + second, wall=5000.0 + second)
    assert len(calls) == 4  # at 0, 10, 20, 30


def test_an_offset_job_runs_at_its_second_of_each_minute(jobs: dict[str, Job]) -> None:
    ran_at: list[float] = []
    wall_clock = {"now": 0.0}
    ticker.every(60.0, name="aligned", offset=5.0)(lambda: ran_at.append(wall_clock["now"] % 60))
    # A worker that starts at 12:00:40 runs it at once, then at 12:01:05, 12:02:05…
    start = MINUTE + 40.0
    assert start % 60 == 40
    for tick in range(0, 200):
        wall_clock["now"] = start + tick
        run_due(now=300.0 + tick, wall=start + tick)
    assert ran_at == [40.0, 5.0, 5.0, 5.0]


def test_an_offset_job_does_not_run_twice_within_a_second(jobs: dict[str, Job]) -> None:
    job = Job(name="aligned", every=60.0, func=lambda: None, offset=5.0)
    assert job.after(now=100.0, wall=MINUTE + 4.5) == pytest.approx(160.5)  # not 0.5 s later
    assert job.after(now=100.0, wall=MINUTE + 6.0) == pytest.approx(159.0)
    assert job.after(now=100.0, wall=MINUTE + 30.0) == pytest.approx(135.0)


def test_a_failing_job_runs_again_next_period(jobs: dict[str, Job]) -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    ticker.every(5.0, name="broken")(broken)
    run_due(now=0.0, wall=0.0)
    run_due(now=5.0, wall=5.0)
    assert len(calls) == 2
