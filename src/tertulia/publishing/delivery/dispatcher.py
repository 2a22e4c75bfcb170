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

from django.db import close_old_connections

from tertulia.publishing.delivery.claims import claim, promote_due
from tertulia.publishing.delivery.sending import deliver_batch

logger = logging.getLogger(__name__)

BATCH = 50
IDLE_SECONDS = 0.5


def worker_name(thread: int = 0) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{thread}"


def run_once(worker: str, batch: int = BATCH) -> int:
    """One round; returns how many targets it took."""
    promote_due()
    claims = claim(worker, batch)
    if claims:
        deliver_batch(claims, worker)
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
                taken = run_once(self.worker, self.batch)
            except Exception:
                logger.exception("publishing dispatcher round failed; trying again")
                taken = 0
            if not taken:
                self.stopping.wait(IDLE_SECONDS)
        close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
