"""Jobs that run every few seconds in each worker process.

Huey's periodic tasks have minute resolution; live sandbox traffic and sweeps
want seconds. Each job must be safe to run in several workers at once (claim
work in the database), because every worker runs the ticker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

logger = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every: float
    func: Callable[[], object]
    next_run: float = 0.0
    # Run at this many seconds past each period of the wall clock (e.g. 5 s after every minute), so
    # work about complete minutes starts right after they end instead of up to a period later.
    offset: float | None = None

    def after(self, now: float, wall: float) -> float:
        """The monotonic time of the next run, for a run that started at `now` (monotonic) / `wall`."""
        if self.offset is None:
            return now + self.every
        wait = (self.offset - wall) % self.every
        return now + (wait if wait >= 1.0 else wait + self.every)  # not twice within a second


JOBS: dict[str, Job] = {}


def every(
    seconds: float, name: str | None = None, offset: float | None = None
) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        key = name or f"{func.__module__}.{func.__qualname__}"
        JOBS[key] = Job(name=key, every=seconds, func=func, offset=offset)
        return func

    return register


def run_due(now: float | None = None, wall: float | None = None) -> list[str]:
    now = time.monotonic() if now is None else now
    wall = time.time() if wall is None else wall
    ran = []
    for job in list(JOBS.values()):
        if now < job.next_run:
            continue
        job.next_run = job.after(now, wall)
        close_old_connections()
        try:
            job.func()
        except Exception:
            logger.exception("ticker job %s failed; it will run again", job.name)
        finally:
            close_old_connections()
        ran.append(job.name)
    return ran


class Ticker(threading.Thread):
    def __init__(self, resolution: float = 1.0) -> None:
        super().__init__(name="tertulia-ticker", daemon=True)
        self.resolution = resolution
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            run_due()
            self.stopping.wait(self.resolution)

    def stop(self) -> None:
        self.stopping.set()
