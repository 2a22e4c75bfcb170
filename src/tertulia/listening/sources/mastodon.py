"""A Mastodon server's public timeline, or one hashtag on it, as an organization's listening source.

    GET /api/v1/streaming/public              (kind mastodon_public)
    GET /api/v1/streaming/hashtag?tag=vino    (kind mastodon_hashtag)

Server-Sent Events; each `update` event carries a Status, which becomes an `Item` for the matcher
(network "mastodon", the status URI as its id: the same post seen through two servers is one
mention). Other events (delete, status.update, heartbeats) are ignored.

Tertulia reads without an account: most servers show their public timelines to anyone, and those
that do not answer 401 or 422, which the source shows as its error.

Nothing is lost across a gap. The source's cursor is the id of the newest status stored; on every
(re)connect, once the stream is open (so nothing falls between the two), the reader pages forward
from the cursor with the REST timeline (`min_id`, oldest page first) and only then reads the stream.
Duplicates between the two are skipped by ingest. The cursor moves only in the transaction that
stores the batch (`runner.save_batch`).

Reuses the connector's pieces: `streaming.parse_sse`, `parsing.item_from_status` (HTML to text),
`client.MastodonHTTP` (rate limits, error mapping) and the registration's private-address check.

The server is not trusted with the worker's memory: the stream is read in chunks and split into
lines here, a line longer than `MAX_LINE_BYTES` or an event whose data lines add up to more than
`MAX_EVENT_BYTES` ends the connection (the source shows why; the reader reconnects with backoff),
and a timeline page larger than `MAX_PAGE_BYTES` is refused before it is decoded. Compressed
bodies are inflated a chunk at a time, so a small bomb never expands in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AuthenticationFailed,
    ConnectorError,
    ContentRejected,
    InboundKind,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.mastodon.client import (
    BUCKET,
    USER_AGENT,
    MastodonHTTP,
    outbound_policy,
    raise_for_status,
)
from tertulia.connectors.mastodon.client import NETWORK as RATE_NETWORK
from tertulia.connectors.mastodon.connector import _refuse_private_address
from tertulia.connectors.mastodon.parsing import id_key, item_from_status
from tertulia.connectors.mastodon.streaming import STREAM_TIMEOUT, parse_sse
from tertulia.core.outbound import GuardedTransport, OutboundFailed, OutboundRefused, guarded_client
from tertulia.listening.ingest import MAX_REMOTE_ID, Item
from tertulia.listening.models import ListeningSource, SourceKind
from tertulia.listening.sources.runner import record_error, save_batch

NETWORK = "mastodon"
BATCH_SIZE = 100  # statuses stored per transaction, at most
FLUSH_SECONDS = 2.0  # a smaller batch is stored once it is this old (checked at each line received)
PAGE_SIZE = 40  # Mastodon's maximum for timelines
CATCH_UP_PAGES = 25  # 1,000 statuses after a gap; a longer gap is reported, not read
MAX_EVENT_CHARS = 1_000_000  # a Status is a few KB; a megabyte of JSON is not one
MAX_REDIRECTS = 3  # Mastodon redirects /api/v1/streaming to its streaming host when it has one
MAX_CURSOR_CHARS = 30  # status ids are decimal snowflakes (18-19 digits)
CHUNK_BYTES = 64 * 1024  # inflate this much at a time (httpcore reads 64 KB from the socket at most)
MAX_LINE_BYTES = 1024 * 1024  # one line of the stream, at most
MAX_EVENT_BYTES = 1024 * 1024  # the data lines of one event, together, at most
MAX_PAGE_BYTES = 5 * 1024 * 1024  # a timeline page of 40 statuses is some hundreds of KB
MAX_ERROR_BYTES = 64 * 1024  # an error answer's body, read for its message
_LINE_END = re.compile(rb"\r\n|\r|\n")


class TooLarge(TemporaryFailure):
    """The server sent more than a reader keeps in memory; the connection is dropped."""


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body as it arrives, decoded, in pieces of at most `CHUNK_BYTES` (as soon as they come:
    `iter_raw(chunk_size)` would wait for a full chunk, holding a quiet stream's events back)."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise TemporaryFailure(
            _("The server sent its answer in an encoding Tertulia does not read (%(encoding)s).")
            % {"encoding": encoding[:40]}
        )
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or a zlib header, whichever it is
    try:
        for raw in response.iter_raw():
            data = raw
            while data and not decoder.eof:
                piece = decoder.decompress(data, CHUNK_BYTES)
                if piece:
                    yield piece
                elif data == decoder.unconsumed_tail:
                    break  # pragma: no cover - zlib always moves when it may write
                data = decoder.unconsumed_tail
    except zlib.error as error:
        raise TemporaryFailure(_("The server sent a body that does not inflate.")) from error


def read_capped(response: httpx.Response, limit: int, too_large: str) -> bytes:
    """A response's whole body, or TooLarge(too_large) as soon as it is known to pass `limit` bytes
    (by its Content-Length, or while it arrives)."""
    length = response.headers.get("content-length", "").strip()
    if length.isdigit() and int(length) > limit:
        raise TooLarge(too_large)
    body = bytearray()
    for chunk in _chunks(response):
        body += chunk
        if len(body) > limit:
            raise TooLarge(too_large)
    return bytes(body)


def _bounded(response: httpx.Response, limit: int = MAX_ERROR_BYTES) -> httpx.Response:
    """A copy of an error answer with at most `limit` bytes of its body (enough for its message)."""
    body = bytearray()
    with contextlib.suppress(TemporaryFailure, httpx.HTTPError):
        for chunk in _chunks(response):
            body += chunk
            if len(body) > limit:
                del body[limit:]
                break
    headers = [(k, v) for k, v in response.headers.items() if k not in ("content-encoding", "content-length")]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=response.request
    )


def status_item(payload: object, channel_name: str = "", origin: str = "") -> tuple[Item, str] | None:
    """The `Item` for a Status (a boost counts as the post boosted) and its id; None if malformed."""
    if not isinstance(payload, dict):
        return None
    boosted = payload.get("reblog")
    status: dict[str, Any] = boosted if isinstance(boosted, dict) else payload
    try:
        inbound = item_from_status(status, InboundKind.MENTION, raw={})
        uri = status.get("uri")
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    url = _web_url(status.get("url")) or _web_url(uri)
    remote_id = uri if isinstance(uri, str) and uri.strip() else url or inbound.remote_id
    if len(remote_id) > MAX_REMOTE_ID:
        remote_id = "sha256:" + hashlib.sha256(remote_id.encode()).hexdigest()
    handle = inbound.author.handle
    host = urlsplit(origin).hostname
    if handle and "@" not in handle and host:
        handle = f"{handle}@{host}"  # a local account's acct has no domain; the listener needs it
    item = Item(
        network=NETWORK,
        remote_id=remote_id,
        text=inbound.text,
        published_at=inbound.created_at,
        url=url,
        author_handle=handle,
        author_name=inbound.author.display_name,
        author_followers=inbound.author.followers_count,
        language=inbound.language or "",
        channel_name=channel_name,
    )
    return item, str(payload.get("id") or "")


def _web_url(value: object) -> str:
    """Only http(s) links are kept: a `javascript:` URL from a hostile server must never be a link."""
    url = value.strip() if isinstance(value, str) else ""
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def _cursor_id(value: str) -> bool:
    return value.isdigit() and len(value) <= MAX_CURSOR_CHARS


def check_public(url: str) -> None:
    """The server's address was typed by a person: public addresses only (SSRF), unless the operator
    allows private ones with `TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContentRejected(_("%(server)s is not a web address.") % {"server": url[:200]})
    origin = f"{parts.scheme}://{parts.netloc}"
    try:
        _refuse_private_address(origin)
    except ContentRejected as refused:
        raise ContentRejected(
            _("%(server)s is on a private or reserved network; Tertulia does not read it.")
            % {"server": origin}
        ) from refused


class MastodonStream:
    """Reads one Mastodon stream source: catch up from the cursor, then stream (see the module doc)."""

    def __init__(
        self, source: ListeningSource, holder: str, *, stopping: threading.Event | None = None
    ) -> None:
        if source.kind not in (SourceKind.MASTODON_PUBLIC, SourceKind.MASTODON_HASHTAG):
            raise ValueError(f"not a Mastodon stream source: {source.kind}")
        self.source = source
        self.holder = holder
        self.stopping = stopping or threading.Event()
        self.origin = source.url.rstrip("/")
        self.cursor = source.cursor if _cursor_id(source.cursor) else ""
        self.pending: list[Item] = []
        self.pending_ids: list[str] = []
        self.pending_since = 0.0
        self.received = 0  # events read from the stream (any kind)
        self.skipped = 0  # update events that carried no readable status
        self.warned = False  # a warning about this connection is on the source: do not clear it
        self._response: httpx.Response | None = None
        self._lock = threading.Lock()

    # -- where

    @property
    def hashtag(self) -> bool:
        return self.source.kind == SourceKind.MASTODON_HASHTAG

    def stream_request(self) -> tuple[str, list[tuple[str, str]]]:
        if self.hashtag:
            return "/api/v1/streaming/hashtag", [("tag", self.source.hashtag)]
        return "/api/v1/streaming/public", []

    def timeline_path(self) -> str:
        if self.hashtag:
            return "/api/v1/timelines/tag/" + quote(self.source.hashtag, safe="")
        return "/api/v1/timelines/public"

    def _refused(self, status: int) -> ContentRejected:
        return ContentRejected(
            _(
                "%(server)s shows its public posts only to signed-in apps (HTTP %(status)d); Tertulia "
                "reads Mastodon without an account, so choose another server for this source."
            )
            % {"server": self.origin, "status": status}
        )

    # -- reading

    def read(self) -> int:
        """Connect, catch up, stream until the server closes or `abort`; events received."""
        check_public(self.origin)
        # Uncompressed: events are small and must arrive at once, not when a compressor flushes.
        headers = {"User-Agent": USER_AGENT, "Accept": "text/event-stream", "Accept-Encoding": "identity"}
        # Guarded: every connection goes to an address that was checked (tertulia.core.outbound).
        with guarded_client(outbound_policy(), headers=headers, timeout=STREAM_TIMEOUT) as client:
            response = self._open(client)
            with self._lock:
                self._response = response
            try:
                if response.status_code >= 400:
                    raise self._refusal(_bounded(response))
                if self.stopping.is_set():
                    return self.received
                self.catch_up()
                self._stream(response)
            finally:
                with self._lock:
                    self._response = None
                response.close()
        return self.received

    def abort(self) -> None:
        """Stop reading now (from another thread): the blocked read sees the connection end."""
        self.stopping.set()
        with self._lock:
            response = self._response
        stream = response.extensions.get("network_stream") if response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def _open(self, client: httpx.Client) -> httpx.Response:
        path, params = self.stream_request()
        url = httpx.URL(self.origin + path, params=params)
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = client.send(client.build_request("GET", url), stream=True)
            except OutboundRefused as refused:
                raise ContentRejected(str(refused)) from refused
            except (httpx.TransportError, OutboundFailed) as error:
                raise TemporaryFailure(
                    _("Could not reach the Mastodon server %(server)s.") % {"server": self.origin}
                ) from error
            if not (response.is_redirect and "location" in response.headers):
                return response
            response.close()
            target = urljoin(str(url), response.headers["location"])
            check_public(target)  # every hop is an address someone else chose
            url = httpx.URL(target)
        raise TemporaryFailure(_("%(server)s redirected too many times.") % {"server": self.origin})

    def _refusal(self, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        if status in (401, 403, 422):
            return self._refused(status)
        if status in (404, 410):
            return RemoteNotFound(
                _("%(server)s has no Mastodon streaming API (HTTP %(status)d). Check the address.")
                % {"server": self.origin, "status": status}
            )
        try:
            raise_for_status(response)
        except ConnectorError as error:
            return error
        return TemporaryFailure(str(status))  # pragma: no cover - every status >= 400 raised above

    def _stream(self, response: httpx.Response) -> None:
        try:
            for event, data in parse_sse(self._lines(response)):
                self.received += 1
                self._take(event, data)
                if self.stopping.is_set():
                    break
        except TooLarge:
            self.flush()  # the events before the oversized one were whole
            raise
        except httpx.TransportError as error:
            self.flush()  # what arrived whole is kept
            if self.stopping.is_set():
                return
            raise TemporaryFailure(
                _("The stream from %(server)s broke off; Tertulia reconnects and catches up.")
                % {"server": self.origin}
            ) from error
        self.flush()

    def _lines(self, response: httpx.Response) -> Iterator[str]:
        """The stream's lines (without their endings), at most `MAX_LINE_BYTES` each and at most
        `MAX_EVENT_BYTES` of data lines per event; TooLarge ends the connection otherwise."""
        buffer = bytearray()
        event_bytes = 0  # of the data lines since the last blank line
        chunks = _chunks(response)
        ended = False
        while not ended:
            chunk = next(chunks, None)
            if chunk is None:
                ended = True
            else:
                buffer += chunk
            start = 0
            while True:
                found = _LINE_END.search(buffer, start)
                if found is None or (found.group() == b"\r" and found.end() == len(buffer) and not ended):
                    break  # no whole line yet (a CR at the end may be the first half of CRLF)
                raw = bytes(buffer[start : found.start()])
                start = found.end()
                if len(raw) > MAX_LINE_BYTES:
                    raise self._too_large()
                if not raw:
                    event_bytes = 0
                elif raw.partition(b":")[0] == b"data":
                    event_bytes += len(raw) + 1
                    if event_bytes > MAX_EVENT_BYTES:
                        raise self._too_large()
                yield raw.decode("utf-8", errors="replace")
                if self.stopping.is_set():
                    return
                self._maybe_flush()
            del buffer[:start]
            if len(buffer) > MAX_LINE_BYTES:
                raise self._too_large()  # a line that never ends
        if buffer:
            yield buffer.decode("utf-8", errors="replace")  # the last line had no ending

    def _maybe_flush(self) -> None:
        # Heartbeats come as lines too, so a quiet stream's last statuses are stored soon.
        if self.pending and (
            len(self.pending) >= BATCH_SIZE or time.monotonic() - self.pending_since >= FLUSH_SECONDS
        ):
            self.flush()

    def _too_large(self) -> TooLarge:
        return TooLarge(
            _(
                "%(server)s sent an event larger than %(size)d MB; Tertulia dropped the connection "
                "and will try again."
            )
            % {"server": self.origin, "size": MAX_EVENT_BYTES // (1024 * 1024)}
        )

    def _take(self, event: str, data: str) -> None:
        if event != "update":
            return  # delete, status.update, filters...: a mention once stored stays as it was read
        found = None
        if len(data) <= MAX_EVENT_CHARS:
            try:
                found = status_item(json.loads(data), self.source.name, self.origin)
            except ValueError:
                found = None
        if found is None:
            self.skipped += 1
            return
        item, status_id = found
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append(item)
        if _cursor_id(status_id):
            self.pending_ids.append(status_id)

    def flush(self) -> None:
        """Store what is pending and move the cursor past it (one transaction)."""
        if not self.pending:
            return
        cursor = max([self.cursor, *self.pending_ids], key=id_key) if self.pending_ids else self.cursor
        save_batch(self.source, self.pending, cursor, self.holder, clear_error=not self.warned)
        self.cursor = cursor
        self.pending, self.pending_ids = [], []

    # -- catching up

    def catch_up(self) -> None:
        """Everything after the cursor, from the REST timeline, oldest page first (or, the first time,
        the latest page)."""
        host = urlsplit(self.origin).hostname or self.origin
        http = MastodonHTTP(
            self.origin,
            "",
            limiter_key=f"listening:{host}"[:255],
            transport=GuardedTransport(outbound_policy()),
        )
        try:
            if not self.cursor:
                self._page(http, "")
                return
            for _page in range(CATCH_UP_PAGES):
                before = self.cursor
                full = self._page(http, self.cursor)
                if not full or self.cursor == before or self.stopping.is_set():
                    return
            self.warned = True
            record_error(
                self.source,
                self.holder,
                _(
                    "The gap since the last read was too long to catch up whole; "
                    "some posts from it were not read."
                ),
            )
        except OutboundRefused as refused:
            raise ContentRejected(str(refused)) from refused
        except OutboundFailed as failed:
            raise TemporaryFailure(str(failed)) from failed
        finally:
            http.close()

    def _get_page(
        self, http: MastodonHTTP, params: list[tuple[str, str | int | float | bool | None]]
    ) -> bytes:
        """`http.request`, but the body is read with a cap (it reads whole answers, of any size)."""
        ratelimit.spend(RATE_NETWORK, http.limiter_key, BUCKET)
        request = http.client.build_request(
            "GET", self.timeline_path(), params=params, headers={"Accept-Encoding": "gzip"}
        )
        try:
            response = http.client.send(request, stream=True)
        except httpx.TimeoutException as error:
            raise TemporaryFailure(_("Mastodon did not answer in time.")) from error
        except httpx.TransportError as error:
            raise TemporaryFailure(_("Could not reach the Mastodon instance.")) from error
        try:
            http.observe(response)
            if response.status_code >= 400:
                raise_for_status(_bounded(response), http.limiter_key)
            try:
                return read_capped(
                    response,
                    MAX_PAGE_BYTES,
                    _("%(server)s sent a timeline page larger than %(size)d MB; Tertulia does not read it.")
                    % {"server": self.origin, "size": MAX_PAGE_BYTES // (1024 * 1024)},
                )
            except httpx.TimeoutException as error:
                raise TemporaryFailure(_("Mastodon did not answer in time.")) from error
            except httpx.TransportError as error:
                raise TemporaryFailure(_("Could not reach the Mastodon instance.")) from error
        finally:
            response.close()

    def _page(self, http: MastodonHTTP, after: str) -> bool:
        """One page of the timeline after `after`, stored; whether it was full (more may follow)."""
        params: list[tuple[str, str | int | float | bool | None]] = [("limit", PAGE_SIZE)]
        if after:
            params.append(("min_id", after))
        try:
            content = self._get_page(http, params)
        except (AuthenticationFailed, ContentRejected) as refused:
            raise self._refused(401 if isinstance(refused, AuthenticationFailed) else 422) from refused
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise TemporaryFailure(
                _("%(server)s answered with something that is not a timeline.") % {"server": self.origin}
            )
        items, ids = [], []
        for payload in body:
            found = status_item(payload, self.source.name, self.origin)
            if found is None:
                self.skipped += 1
                continue
            items.append(found[0])
            if _cursor_id(found[1]):
                ids.append(found[1])
        items.reverse()  # Mastodon sends newest first; store in the order they were written
        cursor = max([self.cursor, *ids], key=id_key) if ids else self.cursor
        if items or cursor != self.cursor:
            save_batch(self.source, items, cursor, self.holder, clear_error=not self.warned)
            self.cursor = cursor
        return len(body) >= PAGE_SIZE
