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


JOBS: dict[str, Job] = {}


def every(seconds: float, name: str | None = None) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        key = name or f"{func.__module__}.{func.__qualname__}"
        JOBS[key] = Job(name=key, every=seconds, func=func)
        return func

    return register


def run_due(now: float | None = None) -> list[str]:
    now = time.monotonic() if now is None else now
    ran = []
    for job in list(JOBS.values()):
        if now < job.next_run:
            continue
        job.next_run = now + job.every
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
