"""The Bluesky firehose (com.atproto.sync.subscribeRepos) as a listening source for every organization.

One reader per installation, switched on by `TERTULIA_FIREHOSE_URL` (a relay such as wss://bsky.network,
or a PDS). Every worker starts a `FirehoseReader` thread; the one that holds the lease on the service's
`FirehoseState` row reads, the others wait to take over when its lease runs out.

    socket thread (the SDK's FirehoseSubscribeReposClient)
        frame → Decoder.decode → Event(seq, [Item, ...])  → bounded queue
    reader thread
        queue → batch (BATCH_ITEMS items or BATCH_SECONDS, whichever first)
              → ingest(items, organization_id=None) → after_ingest(result)
              → FirehoseState.cursor = the batch's last seq (only while we hold the lease)

The cursor is written after the batch's ingest transaction commits, so a worker killed at any point
loses nothing: the next reader starts from the stored cursor, and a post read twice is skipped by the
mention's (organization, network, remote id) key. Only new posts (create ops of app.bsky.feed.post
records) are read; malformed frames and records are skipped and counted.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from atproto_client import models
from atproto_core.car import CAR
from atproto_firehose import FirehoseSubscribeReposClient, parse_subscribe_repos_message
from atproto_subscription.exceptions import SubscriptionError
from atproto_subscription.frames import MessageFrame
from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Q, QuerySet
from django.utils import timezone
from websockets.exceptions import ConnectionClosedOK

from tertulia.connectors.bluesky.records import POST_COLLECTION, WEB_URL, parse_datetime
from tertulia.listening.ingest import Ingested, Item, ingest
from tertulia.listening.models import FirehoseState
from tertulia.listening.tasks import after_ingest

logger = logging.getLogger(__name__)

NETWORK = "bluesky"
BATCH_ITEMS = 200
BATCH_SECONDS = 1.0
LEASE_SECONDS = 30.0
RENEW_SECONDS = 10.0
QUEUE_EVENTS = 5_000  # events between the socket and the batcher; a full queue slows the socket down
HANDLE_CACHE = 10_000  # DIDs whose handle an #identity event told us
# Reconnect after this long without a frame (the socket's pings catch a dead connection sooner); long
# enough that an idle PDS is not an error, see the SDK's backoff (a connection older than 60 s resets it).
RECV_TIMEOUT_SECONDS = 120.0
MAX_BACKOFF_SECONDS = 60.0
STOP_SECONDS = 10.0  # a stop waits this long for the last batch to be stored
# A post's createdAt is the author's claim: one from the future (beyond clock skew) or from before the
# web existed is replaced by the time it was read.
FUTURE_SKEW = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

_POST_PATH = f"{POST_COLLECTION}/"
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}")
_RKEY = re.compile(r"[A-Za-z0-9._:~-]{1,512}")
_HANDLE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,6}")


class LeaseLost(Exception):
    """Another worker holds the firehose now: this one stops reading."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:firehose"


def xrpc_base(service: str) -> str:
    """The SDK's base URI for a service address as settings hold it (ws(s)://host[:port][/path])."""
    return f"{service.rstrip('/')}/xrpc"


def published_at(value: object, received: datetime) -> datetime:
    """A record's createdAt when it is a sane time, else when we received it."""
    if not isinstance(value, str) or len(value) > 64:
        return received
    parsed = parse_datetime(value)
    if parsed is None:
        return received
    try:
        if parsed < EARLIEST or parsed > received + FUTURE_SKEW:
            return received
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # an offset that pushes it past year 9999
        return received


def _language(value: object) -> str:
    if isinstance(value, list) and value and isinstance(value[0], str) and _LANGUAGE.fullmatch(value[0]):
        return value[0]
    return ""


MAX_POST_CHARS = 3_000


def post_item(did: str, rkey: str, record: object, received: datetime, handle: str = "") -> Item | None:
    """The listening item for one new post record, or None when the record is not a readable post."""
    if not isinstance(record, dict) or record.get("$type") != POST_COLLECTION:
        return None
    text = record.get("text")
    if (
        not isinstance(text, str)
        or not _DID.fullmatch(did)
        or not _RKEY.fullmatch(rkey)
        or rkey in {".", ".."}
    ):
        return None
    return Item(
        network=NETWORK,
        remote_id=f"at://{did}/{POST_COLLECTION}/{rkey}",
        # The lexicon allows 3,000 bytes (300 graphemes); a PDS that sends more is not obeying it.
        text=text[:MAX_POST_CHARS],
        published_at=published_at(record.get("createdAt"), received),
        url=f"{WEB_URL}/profile/{did}/post/{rkey}",
        author_handle=handle or did,
        language=_language(record.get("langs")),
    )


@dataclass
class Event:
    """One frame of the stream: its sequence number (None for #info) and the posts it created."""

    seq: int | None
    items: list[Item] = field(default_factory=list)


@dataclass
class Counts:
    frames: int = 0
    posts: int = 0
    skipped: int = 0  # malformed frames and records


def _is_post_create(op: object) -> bool:
    return (
        isinstance(op, dict)
        and op.get("action") == "create"
        and isinstance(op.get("path"), str)
        and op["path"].startswith(_POST_PATH)
    )


class Decoder:
    """Frames → events. Keeps the handles #identity events announce (bounded; no network calls)."""

    def __init__(self, handles: int = HANDLE_CACHE) -> None:
        self.handles: OrderedDict[str, str] = OrderedDict()
        self.max_handles = handles
        self.counts = Counts()
        self.notice = ""  # the last #info the service sent (e.g. OutdatedCursor)

    def handle_of(self, did: str) -> str:
        handle = self.handles.get(did, "")
        if handle:
            self.handles.move_to_end(did)
        return handle

    def decode(self, frame: MessageFrame, received: datetime) -> Event:
        self.counts.frames += 1
        body = frame.body if isinstance(frame.body, dict) else {}
        seq = body.get("seq")
        event = Event(seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None)
        try:
            if frame.type == "#commit":
                event.items = self._commit(frame, body, received)
            elif frame.type == "#identity":
                self._identity(frame)
            elif frame.type == "#info":
                info = parse_subscribe_repos_message(frame)
                if isinstance(info, models.ComAtprotoSyncSubscribeRepos.Info):
                    self.notice = f"{info.name}: {info.message or ''}"[:300]
                    logger.warning("the Bluesky firehose says %s", self.notice)
        except Exception as exc:  # one bad frame is skipped, never the end of reading
            self.counts.skipped += 1
            logger.debug("skipped a malformed firehose frame (seq %s): %r", event.seq, exc)
        self.counts.posts += len(event.items)
        return event

    def _commit(self, frame: MessageFrame, body: dict[str, Any], received: datetime) -> list[Item]:
        ops = body.get("ops")
        if not isinstance(ops, list) or not any(_is_post_create(op) for op in ops):
            return []  # likes, follows, deletions...: not parsed at all
        commit = parse_subscribe_repos_message(frame)
        if not isinstance(commit, models.ComAtprotoSyncSubscribeRepos.Commit):
            raise ValueError("not a commit")
        blocks = CAR.from_bytes(commit.blocks).blocks
        handle = self.handle_of(commit.repo)
        items = []
        for op in commit.ops:
            if op.action != "create" or not op.path.startswith(_POST_PATH) or op.cid is None:
                continue
            item = post_item(commit.repo, op.path[len(_POST_PATH) :], blocks.get(op.cid), received, handle)
            if item is None:
                self.counts.skipped += 1
                continue
            items.append(item)
        return items

    def _identity(self, frame: MessageFrame) -> None:
        identity = parse_subscribe_repos_message(frame)
        if not isinstance(identity, models.ComAtprotoSyncSubscribeRepos.Identity):
            raise ValueError("not an identity event")
        handle = (identity.handle or "").lower()
        if len(handle) <= 253 and _HANDLE.fullmatch(handle) and handle != "handle.invalid":
            self.handles[identity.did] = handle
            self.handles.move_to_end(identity.did)
            while len(self.handles) > self.max_handles:
                self.handles.popitem(last=False)
        else:
            self.handles.pop(identity.did, None)


class _Client(FirehoseSubscribeReposClient):  # type: ignore[misc]  # the SDK ships no type information
    """The SDK's client, telling us about the connection errors it retries on its own."""

    def __init__(self, on_error: Callable[[Exception], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_error = on_error

    def _handle_websocket_error_or_stop(self, exception: Exception) -> bool:
        if not self._stopped and not isinstance(exception, TimeoutError | ConnectionClosedOK):
            self._on_error(exception)
        return bool(super()._handle_websocket_error_or_stop(exception))


def describe(exc: BaseException) -> str:
    """An error for FirehoseState.last_error: its kind and message (the address holds no credentials)."""
    return f"{type(exc).__name__}: {exc}"[:500]


class FirehoseReader(threading.Thread):
    """Reads one firehose service while this worker holds its lease; see the module's docstring."""

    def __init__(
        self,
        service: str,
        *,
        holder: str | None = None,
        batch_items: int = BATCH_ITEMS,
        batch_seconds: float = BATCH_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        renew_seconds: float = RENEW_SECONDS,
    ) -> None:
        super().__init__(name="tertulia-firehose", daemon=True)
        self.service = service
        self.holder = holder or worker_name()
        self.batch_items = batch_items
        self.batch_seconds = batch_seconds
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        self.decoder = Decoder()
        self.stopping = threading.Event()
        self.error = ""  # the last error, until events flow again
        self.notice = ""  # the service's last notice (e.g. it could not go back as far as our cursor)
        self._pending: list[Item] = []
        self._pending_seq: int | None = None
        self._last_seq: int | None = None  # the last seq taken from the stream: anything older is a repeat
        self._client: _Client | None = None
        self._renewed = 0.0  # time.monotonic() of the last write that renewed the lease
        self._recorded_error = ""  # last_error as last written

    # --- the lease ---------------------------------------------------------------------------------------

    def _lease_until(self) -> datetime:
        return timezone.now() + timedelta(seconds=self.lease_seconds)

    def take_lease(self) -> FirehoseState | None:
        """The service's state, if this worker holds (or just took) its lease; None if another does."""
        state, _created = FirehoseState.objects.get_or_create(service=self.service)
        free = Q(holder=self.holder) | Q(holder="") | Q(lease_until__isnull=True)
        taken = (
            FirehoseState.objects.filter(pk=state.pk)
            .filter(free | Q(lease_until__lt=timezone.now()))
            .update(holder=self.holder, lease_until=self._lease_until())
        )
        return FirehoseState.objects.get(pk=state.pk) if taken else None

    def _mine(self) -> QuerySet[FirehoseState]:
        return FirehoseState.objects.filter(service=self.service, holder=self.holder)

    def renew(self) -> None:
        error = self.last_error()
        if not self._mine().update(lease_until=self._lease_until(), last_error=error):
            raise LeaseLost(self.service)
        self._renewed, self._recorded_error = time.monotonic(), error

    def release(self) -> None:
        """Let another worker take over at once (a stop, not a crash: a crash waits for the lease)."""
        self._mine().update(holder="", lease_until=None)

    # --- batches -------------------------------------------------------------------------------------------

    def accept(self, event: Event) -> None:
        if event.seq is not None:
            if self._last_seq is not None and event.seq <= self._last_seq:
                return  # replayed after a reconnection: already handled
            self._last_seq = self._pending_seq = event.seq
        if event.seq is not None or event.items:
            self.error = ""  # the stream flows again
        if self.decoder.notice:  # e.g. the cursor was older than the service keeps: posts were missed
            self.notice = f"{timezone.now():%Y-%m-%d %H:%M} UTC {self.decoder.notice}"
            self.decoder.notice = ""
        self._pending.extend(event.items)

    def last_error(self) -> str:
        return (self.error or self.notice)[:500]

    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> Ingested | None:
        """Store the batch, then move the cursor past it (only while we still hold the lease)."""
        items, seq = self._pending, self._pending_seq
        if not items and seq is None:
            return None
        result = ingest(items, organization_id=None) if items else None
        self._pending, self._pending_seq = [], None
        if result is not None:
            try:
                after_ingest(result)
            except Exception:  # the mentions are stored: a failed alert check is logged, not retried
                logger.exception("alert checks after a firehose batch failed")
        error = self.last_error()
        values: dict[str, Any] = {"lease_until": self._lease_until(), "last_error": error}
        if seq is not None:
            values.update(cursor=seq, last_event_at=timezone.now())
        if not self._mine().update(**values):
            raise LeaseLost(self.service)
        self._renewed, self._recorded_error = time.monotonic(), error
        return result

    # --- the socket thread -----------------------------------------------------------------------------

    def _on_error(self, exc: Exception) -> None:
        self.error = describe(exc)
        logger.warning("Bluesky firehose %s: %s; reconnecting", self.service, self.error)

    def _listen(self, client: _Client, events: queue.Queue[Event], closing: threading.Event) -> None:
        def on_frame(frame: MessageFrame) -> None:
            event = self.decoder.decode(frame, timezone.now())
            while not closing.is_set():
                try:
                    events.put(event, timeout=0.5)
                    break
                except queue.Full:
                    continue
            if event.seq is not None:
                # Should the SDK reconnect by itself, it resumes after what it already handed us.
                client.update_params({"cursor": event.seq})

        try:
            client.start(on_frame, self._on_callback_error)
        except SubscriptionError as exc:  # an error frame from the service
            self.error = describe(exc)
            error = exc.args[0] if exc.args else None
            if getattr(error, "error", None) == "FutureCursor":
                # The service is behind our cursor (it was reset, or the address changed): read from now.
                logger.warning(
                    "Bluesky firehose %s: cursor ahead of the service; reading from now", self.service
                )
                self._mine().update(cursor=None)
            closing.set()
        except Exception as exc:
            self.error = describe(exc)
            logger.warning("Bluesky firehose %s stopped: %s", self.service, self.error)
        finally:
            connections.close_all()  # this thread's, if the cursor reset opened one

    def _on_callback_error(self, exc: BaseException) -> None:
        logger.error("Bluesky firehose: a frame could not be handled", exc_info=exc)

    # --- the reader thread ------------------------------------------------------------------------------

    def read(self, cursor: int | None) -> None:
        """Read from `cursor` (None: from now) until stopped, the lease is lost or the stream ends."""
        self._pending, self._pending_seq, self._last_seq = [], None, cursor
        events: queue.Queue[Event] = queue.Queue(maxsize=QUEUE_EVENTS)
        closing = threading.Event()
        client = _Client(
            self._on_error,
            params={"cursor": cursor} if cursor is not None else None,
            base_uri=xrpc_base(self.service),
            recv_timeout=RECV_TIMEOUT_SECONDS,
        )
        self._client = client
        listener = threading.Thread(
            target=self._listen, args=(client, events, closing), name="tertulia-firehose-socket", daemon=True
        )
        listener.start()
        try:
            self.pump(events, listener.is_alive)
        finally:
            closing.set()
            client.stop()
            self._client = None
            listener.join(timeout=1.0)

    def pump(self, events: queue.Queue[Event], listening: Callable[[], bool]) -> None:
        """Batch what arrives on `events` until stopped, or until `listening()` ends and `events` is empty.

        A stop stores the batch in hand; what is still queued is read again from the cursor next time.
        """
        self._renewed = time.monotonic()  # take_lease() just did
        next_flush = self._renewed + self.batch_seconds
        while not self.stopping.is_set():
            due = min(next_flush, self._renewed + self.renew_seconds)
            wait = min(max(0.01, due - time.monotonic()), 0.5)  # 0.5: a stop or a dead socket is seen soon
            try:
                self.accept(events.get(timeout=wait))
            except queue.Empty:
                if not listening():
                    break
            now = time.monotonic()
            if len(self._pending) >= self.batch_items or now >= next_flush:
                self.flush()
                next_flush = now + self.batch_seconds
            if now >= self._renewed + self.renew_seconds or self.last_error() != self._recorded_error:
                self.renew()  # also shows a new error (or its end) at once
        self.flush()

    def run(self) -> None:
        failures = 0
        try:
            while not self.stopping.is_set():
                close_old_connections()
                try:
                    state = self.take_lease()
                    if state is None:  # another worker reads it; take over if its lease runs out
                        self.stopping.wait(self.renew_seconds)
                        continue
                    logger.info(
                        "reading the Bluesky firehose %s from %s", self.service, state.cursor or "now"
                    )
                    self.read(state.cursor)
                    failures = failures + 1 if self.error else 0
                except LeaseLost:
                    logger.warning("another worker took over the Bluesky firehose %s", self.service)
                    failures = 0
                except Exception as exc:
                    failures += 1
                    self.error = describe(exc)
                    logger.exception("the Bluesky firehose reader failed; it starts again from its cursor")
                    self._record_error()
                if not self.stopping.is_set():
                    self.stopping.wait(min(2.0**failures, MAX_BACKOFF_SECONDS))
        finally:
            try:
                self.release()
            except Exception:
                logger.exception("could not release the Bluesky firehose lease; it expires by itself")
            connections.close_all()

    def _record_error(self) -> None:
        try:
            self._mine().update(last_error=self.last_error())
        except Exception:
            logger.exception("could not record the Bluesky firehose error")

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop reading: the socket closes at once, the batch in hand is stored, the lease released."""
        self.stopping.set()
        client = self._client
        if client is not None:
            client.stop()
        if self.is_alive():
            self.join(timeout)
            if self.is_alive():
                logger.warning("the Bluesky firehose reader did not stop in %.0f s", timeout)


def start_firehose() -> FirehoseReader | None:
    """The worker's firehose reader thread, when the operator switched the firehose on."""
    # Not through the outbound policy (docs/outbound.md), on purpose: the reader connects to this
    # one URL, which the operator chose (often their own relay or PDS on a private network), and to
    # nothing a post, an account or a DID document names.
    service: str = getattr(settings, "TERTULIA_FIREHOSE_URL", "")
    if not service:
        return None
    reader = FirehoseReader(service)
    reader.start()
    return reader
