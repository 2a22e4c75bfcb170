from __future__ import annotations

import logging
import os
import signal
import threading
import time

from django.conf import settings
from django.utils.module_loading import autodiscover_modules

from tertulia.publishing.delivery.dispatcher import Dispatcher, stop_all
from tertulia.tasks.ticker import Ticker

logger = logging.getLogger(__name__)


def watch_parent(parent_pid: int) -> None:
    """Stop when the `tertulia serve` that started us is gone, so no worker is orphaned."""

    def loop() -> None:
        while True:
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(1.0)

    threading.Thread(target=loop, name="tertulia-parent-watch", daemon=True).start()


def start_dispatchers() -> list[Dispatcher]:
    """The publishing dispatcher threads (tertulia.publishing.delivery.dispatcher)."""
    dispatchers = [Dispatcher(number) for number in range(settings.TERTULIA_PUBLISH_THREADS)]
    for dispatcher in dispatchers:
        dispatcher.start()
    return dispatchers


def run_worker(threads: int = 4, parent_pid: int | None = None) -> None:
    from huey.contrib.djhuey import HUEY

    from tertulia.listening.sources.firehose import FirehoseReader, start_firehose
    from tertulia.listening.sources.runner import ListeningRunner, start_listening, stop_listening

    # Task modules register Huey tasks and ticker jobs on import.
    autodiscover_modules("tasks")
    import tertulia.tasks.diagnostics  # noqa: F401  (not an app, so autodiscovery misses it)

    if parent_pid:
        watch_parent(parent_pid)
    ticker = Ticker()
    dispatchers: list[Dispatcher] = []
    firehose: FirehoseReader | None = None
    listening: ListeningRunner | None = None
    try:
        ticker.start()
        dispatchers = start_dispatchers()
        firehose = start_firehose()  # TERTULIA_FIREHOSE_URL: one worker reads it, under a lease
        listening = start_listening()  # Mastodon streams (a thread each) and feed polls (ticker + task)
        consumer = HUEY.create_consumer(
            workers=threads, worker_type="thread", periodic=True, check_worker_health=True
        )
        consumer.run()
    finally:
        # We are stopping: a second Ctrl+C must not cut the dispatchers' last batch short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        ticker.stop()
        if firehose is not None:
            firehose.stop()
        stop_all(dispatchers)
        stop_listening(listening)  # each stream saves what it holds, then gives its lease back
