"""Reading an organization's own listening sources in the background (docs/listening.md#sources).

Every `tertulia worker` starts one `ListeningRunner` thread (`start_listening` / `stop_listening`,
called from `tertulia.tasks.worker.run_worker`). It is the supervisor of the long-lived streams:

- every `SCAN_SECONDS` it renews the leases of the streams it reads, stops the ones it no longer
  holds (removed, switched off, or taken over after this worker stalled past its lease), and claims
  free ones (no holder, or a lease that ran out) up to `TERTULIA_LISTENING_STREAMS` per worker, one
  `StreamThread` each. A source added, removed or switched off is picked up within a scan;
- a lease (`ListeningSource.holder` / `lease_until`) lasts `LEASE_SECONDS`, three scans: a worker
  that dies leaves its streams to another worker within a minute and a half.

Feeds are not streams: they are polled by a ticker job and a Huey task (`sources.feeds`), with the
same two columns as a claim, so a feed is read by one worker at a time too.

Whatever a reader brings in goes through `save_batch`: the items and the source's new cursor are
written in one transaction, and only while the reader still holds the source. A reader that is
stopped, or crashes, mid-batch has moved nothing, and reads the batch again from its cursor next
time (ingest skips what it already stored).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AuthenticationFailed,
    ConnectorError,
    ContentRejected,
    RateLimited,
    RemoteNotFound,
)
from tertulia.listening.ingest import Ingested, Item, ingest
from tertulia.listening.models import ListeningSource, SourceKind
from tertulia.listening.tasks import after_ingest

logger = logging.getLogger(__name__)

STREAM_KINDS = (SourceKind.MASTODON_PUBLIC, SourceKind.MASTODON_HASHTAG)
SCAN_SECONDS = 20.0  # how soon a new, removed or switched-off source is noticed
LEASE_SECONDS = 90.0  # renewed at every scan; another worker takes the stream over when it runs out
STOP_SECONDS = 10.0  # a graceful stop waits this long for the readers to save what they hold
DEFAULT_STREAMS_PER_WORKER = 20
RECONNECT_SECONDS = 2.0  # after a stream the server closed in the ordinary way
FIRST_BACKOFF_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 600.0
# A server that refuses us (sign-in required, hashtag gone) will not change its mind in minutes.
REFUSED_BACKOFF_SECONDS = 1800.0


class LeaseLost(Exception):
    """The source was removed, switched off or taken over by another worker: stop reading it."""


def holder_name() -> str:
    """This worker's name in the lease columns (unique per runner, readable in the admin)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]


def streams_per_worker() -> int:
    return max(int(getattr(settings, "TERTULIA_LISTENING_STREAMS", DEFAULT_STREAMS_PER_WORKER)), 0)


# ---------------------------------------------------------------- saving what a reader brought in


def save_batch(
    source: ListeningSource, items: Sequence[Item], cursor: str, holder: str, *, clear_error: bool = True
) -> Ingested:
    """Store `items` for the source's organization and move its cursor, in one transaction.

    Raises LeaseLost (and writes nothing) when `holder` no longer holds the source. Alerts run
    after the commit, so a slow alert never holds the transaction open; an alert that fails is
    logged, not raised (what was stored stays stored). Reading that works again
    clears the source's last error, unless `clear_error` is False (a warning about this read).
    """
    fields: dict[str, object] = {"cursor": cursor, "last_read_at": timezone.now()}
    if clear_error:
        fields["last_error"] = ""
    with transaction.atomic():
        result = ingest(items, organization_id=source.organization_id, source=source, keep_unmatched=True)
        moved = ListeningSource.objects.filter(pk=source.pk, holder=holder, is_active=True).update(**fields)
        if not moved:
            raise LeaseLost(source.pk)
    source.cursor = cursor
    try:
        after_ingest(result)
    except Exception:
        # The batch is stored and the cursor moved: a failing alert must not make the reader think
        # otherwise (it would keep the batch pending, or count the stream as failed).
        logger.exception("listening source %s: alerts after a stored batch failed", source.pk)
    return result


def record_error(source: ListeningSource, holder: str, message: str) -> None:
    """Say on the source why reading it failed (shown to the organization; cleared by the next batch)."""
    ListeningSource.objects.filter(pk=source.pk, holder=holder).update(last_error=message[:500])
    source.last_error = message[:500]


# ---------------------------------------------------------------- stream leases


def _free(now: datetime) -> Q:
    return Q(holder="") | Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def claim_streams(holder: str, limit: int, now: datetime | None = None) -> list[int]:
    """Claim up to `limit` active stream sources nobody holds; the ids won."""
    if limit <= 0:
        return []
    now = now or timezone.now()
    until = now + timedelta(seconds=LEASE_SECONDS)
    candidates = (
        ListeningSource.objects.filter(_free(now), kind__in=STREAM_KINDS, is_active=True)
        .order_by("lease_until", "pk")
        .values_list("pk", flat=True)
    )
    won = []
    for pk in list(candidates[:limit]):
        # Conditional update: of several workers racing for a source exactly one changes the row.
        if ListeningSource.objects.filter(_free(now), pk=pk, is_active=True).update(
            holder=holder, lease_until=until
        ):
            won.append(pk)
    return won


def renew_streams(holder: str, ids: Sequence[int], now: datetime | None = None) -> set[int]:
    """Extend this worker's leases; the ids it still holds (the others are to be stopped)."""
    if not ids:
        return set()
    now = now or timezone.now()
    held = ListeningSource.objects.filter(pk__in=list(ids), holder=holder, is_active=True)
    kept = set(held.values_list("pk", flat=True))
    held.update(lease_until=now + timedelta(seconds=LEASE_SECONDS))
    return kept


def release_streams(holder: str, ids: Sequence[int] | None = None) -> int:
    """Give leases back at once (another worker need not wait for them to run out)."""
    held = ListeningSource.objects.filter(holder=holder, kind__in=STREAM_KINDS)
    if ids is not None:
        held = held.filter(pk__in=list(ids))
    return held.update(holder="", lease_until=None)


# ---------------------------------------------------------------- one stream, one thread


class StreamReader(Protocol):
    """What a stream source's reader does (`sources.mastodon.MastodonStream`)."""

    def read(self) -> int:
        """Connect, catch up from the source's cursor, and read until the server closes the stream or
        the reader is stopped; the number of events received. Raises ConnectorError or LeaseLost."""
        ...

    def abort(self) -> None:
        """From another thread: make `read` return promptly (it saves what it holds first)."""
        ...


ReaderFactory = Callable[[ListeningSource, str, threading.Event], StreamReader]


def default_reader(source: ListeningSource, holder: str, stopping: threading.Event) -> StreamReader:
    from tertulia.listening.sources.mastodon import MastodonStream  # here: mastodon imports this module

    return MastodonStream(source, holder, stopping=stopping)


def backoff(failures: int, error: BaseException | None = None) -> float:
    """Seconds to wait before connecting again after `failures` failures in a row."""
    if isinstance(error, RateLimited):
        return max(float(error.retry_after), FIRST_BACKOFF_SECONDS)
    if isinstance(error, AuthenticationFailed | ContentRejected | RemoteNotFound):
        return REFUSED_BACKOFF_SECONDS
    if failures <= 0:
        return RECONNECT_SECONDS
    return min(FIRST_BACKOFF_SECONDS * float(2 ** min(failures - 1, 12)), MAX_BACKOFF_SECONDS)


class StreamThread(threading.Thread):
    """Reads one stream source for as long as this worker holds it: reconnects, backs off on errors."""

    def __init__(self, source_id: int, holder: str, factory: ReaderFactory = default_reader) -> None:
        super().__init__(name=f"tertulia-listening-{source_id}", daemon=True)
        self.source_id = source_id
        self.holder = holder
        self.factory = factory
        self.stopping = threading.Event()
        self.reader: StreamReader | None = None
        self.lock = threading.Lock()

    def run(self) -> None:
        failures = 0
        try:
            while not self.stopping.is_set():
                close_old_connections()
                source = ListeningSource.objects.filter(
                    pk=self.source_id, holder=self.holder, is_active=True
                ).first()
                if source is None:
                    return  # removed, switched off or taken over: the runner notices too
                failures, wait = self._read(source, failures)
                self.stopping.wait(wait)
        except Exception:  # a bug must not kill the thread silently; the runner starts it again
            logger.exception("listening stream %s stopped on an error", self.source_id)
        finally:
            connection.close()

    def _read(self, source: ListeningSource, failures: int) -> tuple[int, float]:
        reader = self.factory(source, self.holder, self.stopping)
        with self.lock:
            self.reader = reader
        if self.stopping.is_set():
            return failures, 0.0
        try:
            received = reader.read()
        except LeaseLost:
            self.stopping.set()
            return failures, 0.0
        except ConnectorError as error:
            failures += 1
            logger.warning("listening stream %s: %s", source.pk, error)
            record_error(source, self.holder, str(error))
            return failures, backoff(failures, error)
        except Exception:
            failures += 1
            logger.exception("listening stream %s failed", source.pk)
            record_error(source, self.holder, _("Reading this source failed; Tertulia will try again."))
            return failures, backoff(failures)
        finally:
            with self.lock:
                self.reader = None
        # The server closed the stream. One that closes without sending anything is failing quietly.
        failures = 0 if received else failures + 1
        return failures, backoff(failures)

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            reader = self.reader
        if reader is not None:
            reader.abort()


# ---------------------------------------------------------------- the supervisor


class ListeningRunner(threading.Thread):
    def __init__(
        self,
        holder: str | None = None,
        *,
        limit: int | None = None,
        scan_seconds: float = SCAN_SECONDS,
        factory: ReaderFactory = default_reader,
    ) -> None:
        super().__init__(name="tertulia-listening", daemon=True)
        self.holder = holder or holder_name()
        self.limit = streams_per_worker() if limit is None else limit
        self.scan_seconds = scan_seconds
        self.factory = factory
        self.streams: dict[int, StreamThread] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    self.scan()
                except Exception:
                    logger.exception("listening runner scan failed; trying again")
                self.stopping.wait(self.scan_seconds)
        finally:
            self.shutdown()
            connection.close()

    def scan(self, now: datetime | None = None) -> None:
        """Renew, stop what is no longer ours, claim and start what is free."""
        for pk, thread in list(self.streams.items()):
            if not thread.is_alive():  # it ended (lease lost, or an error it could not survive)
                del self.streams[pk]
        kept = renew_streams(self.holder, list(self.streams), now)
        for pk in set(self.streams) - kept:
            self.streams.pop(pk).stop()
        # A source switched off keeps our name until released: give such leases back now.
        ListeningSource.objects.filter(holder=self.holder, kind__in=STREAM_KINDS, is_active=False).update(
            holder="", lease_until=None
        )
        for pk in claim_streams(self.holder, self.limit - len(self.streams), now):
            thread = StreamThread(pk, self.holder, self.factory)
            self.streams[pk] = thread
            thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def shutdown(self, timeout: float = STOP_SECONDS) -> None:
        """Stop every stream, wait for each to save what it holds, give the leases back."""
        threads = list(self.streams.values())
        for thread in threads:
            thread.stop()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
            if thread.is_alive():
                logger.warning("%s did not stop in %.0f s; its lease will run out", thread.name, timeout)
        self.streams.clear()
        try:
            release_streams(self.holder)
        except Exception:  # the database is gone too: the leases run out on their own
            logger.exception("could not release the listening leases")


def start_listening() -> ListeningRunner | None:
    """Called by `run_worker`: the stream supervisor, and the feed poller registered with the ticker."""
    from tertulia.listening.sources import feeds  # noqa: F401  (registers its ticker job and Huey task)

    if streams_per_worker() == 0:
        return None
    runner = ListeningRunner()
    runner.start()
    return runner


def stop_listening(runner: ListeningRunner | None, timeout: float = STOP_SECONDS) -> None:
    if runner is None:
        return
    runner.stop()
    runner.join(timeout + SCAN_SECONDS)
