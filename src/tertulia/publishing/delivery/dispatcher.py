"""The loop every worker process runs: promote what is due, claim a batch, send each.

Each `tertulia worker` starts `TERTULIA_PUBLISH_THREADS` dispatcher threads. They poll the ledger
(the database is the truth; the queue is never trusted with a scheduled time), so a post goes out
within about a second of its time, and a worker killed at any point leaves nothing undone: its claims
expire and another worker takes them, reconciling first.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence

from django.db import close_old_connections

from tertulia.publishing.delivery.claims import claim, promote_due
from tertulia.publishing.delivery.sending import deliver_batch

logger = logging.getLogger(__name__)

BATCH = 50
IDLE_SECONDS = 0.5
# A graceful stop waits this long for a batch to record: longer than one network call.
STOP_SECONDS = 35.0


def worker_name(thread: int = 0) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{thread}"


def run_once(worker: str, batch: int = BATCH, stopping: Callable[[], bool] | None = None) -> int:
    """One round; returns how many targets it took."""
    promote_due()
    claims = claim(worker, batch)
    if claims:
        deliver_batch(claims, worker, stopping=stopping)
    return len(claims)


class Dispatcher(threading.Thread):
    def __init__(self, number: int = 0, batch: int = BATCH) -> None:
        super().__init__(name=f"tertulia-publisher-{number}", daemon=True)
        self.worker = worker_name(number)
        self.batch = batch
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            close_old_connections()
            try:
                taken = run_once(self.worker, self.batch, self.stopping.is_set)
            except Exception:
                logger.exception("publishing dispatcher round failed; trying again")
                taken = 0
            if not taken:
                self.stopping.wait(IDLE_SECONDS)
        close_old_connections()

    def stop(self) -> None:
        """Ask the thread to finish: a batch under way stops before its next send and is recorded."""
        self.stopping.set()


def stop_all(dispatchers: Sequence[Dispatcher], timeout: float = STOP_SECONDS) -> None:
    """Stop every dispatcher and wait for each to record its batch (at most one call's time each).

    A worker that exits without waiting leaves its claims to expire: safe, but each of them then
    costs a reconciliation lookup (or a person, on networks without one).
    """
    for dispatcher in dispatchers:
        dispatcher.stop()
    deadline = time.monotonic() + timeout
    for dispatcher in dispatchers:
        dispatcher.join(max(deadline - time.monotonic(), 0.0))
        if dispatcher.is_alive():
            logger.warning(
                "%s did not finish its batch in %.0f s; its claims will expire", dispatcher.name, timeout
            )
