"""One request to an address a person chose, bounded in every way: `fetch(url, ...)`.

On top of the guarded transport (every connection checked and pinned, see `guard`):

- redirects are followed by hand, at most `max_redirects` (5; 0 returns the redirect itself), each
  hop checked like the first; a redirect's body is never read; 301/302/303 turn a POST into a GET
  and 307/308 keep it; Authorization and Cookie headers are dropped when the origin changes;
- the body is read as a stream and decoded here (identity, gzip, deflate; nothing else is asked
  for), at most `max_bytes` after decoding and at most `max_bytes` before, so neither a huge page
  nor a gzip bomb is ever held in memory: over the cap it is refused (`OutboundFailed`, code
  too_large) or, with `truncate=True`, cut there (link previews only need a page's head);
- an error answer's body (4xx, 5xx) is read up to 64 KB and cut silently;
- httpx's timeouts per step (connect, each read) and a `deadline` in seconds for the whole fetch,
  redirects and body included (checked between reads, so at most one read timeout later).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx
from django.utils.translation import gettext as _

from tertulia.core.outbound.errors import OutboundFailed, OutboundRefused
from tertulia.core.outbound.guard import Policy, guarded_client

USER_AGENT = "Tertulia (+https://github.com/tertulia)"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_DEADLINE = 30.0
MAX_REDIRECTS = 5
ERROR_BODY_BYTES = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True)
class Response:
    url: str  # the last hop's
    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool = False  # cut at the cap (truncate=True, or an error answer's body)
    redirects: tuple[str, ...] = ()  # the URLs that redirected, in order
    peer: str = ""  # the address actually connected to, for logs and tests

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", ""))


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.0f} MB"
    return f"{max(count // 1024, 1)} KB"


class _Decoder:
    """Content-Encoding undone step by step, never producing more than asked for."""

    def __init__(self, encoding: str) -> None:
        name = encoding.strip().lower()
        self._settled = False
        self.deflate = name == "deflate"
        if name in ("", "identity"):
            self._inflater: zlib._Decompress | None = None
        elif name in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.deflate:
            self._inflater = zlib.decompressobj()
        else:
            raise OutboundFailed(
                _("The answer uses an encoding Tertulia does not read (%(encoding)s).")
                % {"encoding": name[:40]},
                code="encoding",
            )

    @property
    def identity(self) -> bool:
        return self._inflater is None

    def feed(self, data: bytes, room: int) -> bytes:
        """`data` decoded, at most `room + 1` bytes (one more than `room` says the cap is passed)."""
        if self._inflater is None:
            return data[: room + 1]
        try:
            return self._inflate(data, room)
        except zlib.error:
            if self.deflate and not self._settled:
                # Some servers send "deflate" without the zlib wrapper: raw deflate, as browsers accept.
                self._settled = True
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(data, room)
            raise OutboundFailed(
                _("The answer is damaged: it does not decompress."), code="encoding"
            ) from None

    def _inflate(self, data: bytes, room: int) -> bytes:
        assert self._inflater is not None
        parts: list[bytes] = []
        produced = 0
        pending = data
        while True:
            # max_length is never 0 here (0 would mean "no limit").
            part = self._inflater.decompress(pending, room + 1 - produced)
            self._settled = True  # bytes decoded: the format is settled
            parts.append(part)
            produced += len(part)
            pending = self._inflater.unconsumed_tail
            if not pending or produced > room:
                return b"".join(parts)

    def finish(self, room: int) -> bytes:
        if self._inflater is None:
            return b""
        try:
            tail = self._inflater.flush()[: room + 1]
            if self._settled and not self._inflater.eof:  # stopped short: a body cut off
                raise zlib.error("incomplete stream")
            return tail
        except zlib.error:
            raise OutboundFailed(
                _("The answer is damaged: it does not decompress."), code="encoding"
            ) from None


class _Clock:
    def __init__(self, deadline: float, host: str) -> None:
        self.ends = time.monotonic() + deadline
        self.host = host

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise OutboundFailed(
                _("%(host)s did not answer in time.") % {"host": self.host}, code="timeout", detail=self.host
            )
        return left

    def timeout(self, base: httpx.Timeout) -> httpx.Timeout:
        left = self.remaining()

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(base.connect), read=cap(base.read), write=cap(base.write), pool=cap(base.pool)
        )


def _read(response: httpx.Response, *, max_bytes: int, truncate: bool, clock: _Clock) -> tuple[bytes, bool]:
    """The decoded body and whether it was cut; OutboundFailed(too_large) past the cap unless `truncate`."""
    too_large = OutboundFailed(
        _("The answer is larger than %(size)s; Tertulia does not read it.") % {"size": _size(max_bytes)},
        code="too_large",
    )
    decoder = _Decoder(response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if not truncate and decoder.identity and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    parts: list[bytes] = []
    decoded = 0
    raw = 0
    for chunk in response.iter_raw():
        raw += len(chunk)
        piece = decoder.feed(chunk, max_bytes - decoded)
        decoded += len(piece)
        if decoded > max_bytes or raw > max_bytes:
            if not truncate:
                raise too_large
            parts.append(piece)
            return b"".join(parts)[:max_bytes], True
        parts.append(piece)
        clock.remaining()
    tail = decoder.finish(max_bytes - decoded)
    decoded += len(tail)
    parts.append(tail)
    if decoded > max_bytes:
        if not truncate:
            raise too_large
        return b"".join(parts)[:max_bytes], True
    return b"".join(parts), False


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _peer(response: httpx.Response) -> str:
    stream = response.extensions.get("network_stream")
    try:
        address = stream.get_extra_info("server_addr") if stream is not None else None
    except Exception:  # only for logs and tests: never a reason to fail a fetch
        address = None
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) and len(address) >= 2 else ""


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
    policy: Policy | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    truncate: bool = False,
    private_headers: Iterable[str] = (),
    verify: object = True,
) -> Response:
    """Send one request (and follow its redirects) under the outbound policy; see the module's doc.

    `policy`: `Policy.from_settings()` when None (TERTULIA_OUTBOUND_ALLOW). `private_headers`: more
    header names to drop when a redirect leaves the origin. `verify`: httpx's (True, or an
    `ssl.SSLContext`).
    """
    policy = policy or Policy.from_settings()
    dropped_on_redirect = SENSITIVE_HEADERS | {name.lower() for name in private_headers}
    sent = httpx.Headers({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
    sent.update(dict(headers or {}))
    sent["Accept-Encoding"] = "gzip, deflate"  # the only encodings `_Decoder` reads
    try:
        current = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise OutboundRefused(_("That is not a valid web address."), code="host") from error
    clock = _Clock(deadline, current.host or "?")
    hops: list[str] = []
    body = content
    verb = method.upper()
    with guarded_client(policy, verify=verify) as client:  # type: ignore[arg-type]  # bool or SSLContext
        while True:
            clock.host = current.host or "?"
            try:
                request = client.build_request(
                    verb, current, headers=sent, content=body, timeout=clock.timeout(timeout)
                )
                response = client.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException as error:
                raise OutboundFailed(
                    _("%(host)s did not answer in time.") % {"host": clock.host},
                    code="timeout",
                    detail=clock.host,
                ) from error
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
                raise OutboundRefused(_("That is not a valid web address."), code="host") from error
            except httpx.TransportError as error:
                raise OutboundFailed(
                    _("Could not reach %(host)s.") % {"host": clock.host},
                    code="unreachable",
                    detail=clock.host,
                ) from error
            try:
                location = response.headers.get("location", "")
                if response.status_code in REDIRECTS and location and max_redirects > 0:
                    if len(hops) >= max_redirects:
                        raise OutboundFailed(_("Too many redirects."), code="redirects", detail=clock.host)
                    try:
                        following = current.join(location.strip())
                    except (httpx.InvalidURL, ValueError) as error:
                        raise OutboundRefused(_("That is not a valid web address."), code="host") from error
                    hops.append(str(current))
                    if response.status_code == 303 or (response.status_code in (301, 302) and verb == "POST"):
                        verb = "GET" if verb != "HEAD" else verb
                        body = None
                        for name in ("content-type", "content-length", "transfer-encoding"):
                            sent.pop(name, None)
                    if _origin(following) != _origin(current):
                        for name in dropped_on_redirect:
                            sent.pop(name, None)
                    current = following
                    continue
                return _answer(
                    response, current, hops, max_bytes=max_bytes, truncate=truncate, clock=clock, verb=verb
                )
            except httpx.TimeoutException as error:
                raise OutboundFailed(
                    _("%(host)s did not answer in time.") % {"host": clock.host},
                    code="timeout",
                    detail=clock.host,
                ) from error
            except httpx.TransportError as error:
                raise OutboundFailed(
                    _("Could not reach %(host)s.") % {"host": clock.host},
                    code="unreachable",
                    detail=clock.host,
                ) from error
            finally:
                response.close()


def _answer(
    response: httpx.Response,
    url: httpx.URL,
    hops: list[str],
    *,
    max_bytes: int,
    truncate: bool,
    clock: _Clock,
    verb: str,
) -> Response:
    status = response.status_code
    if verb == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body, cut = b"", False
    elif 200 <= status < 300:
        body, cut = _read(response, max_bytes=max_bytes, truncate=truncate, clock=clock)
    else:
        body, cut = _read(response, max_bytes=min(max_bytes, ERROR_BODY_BYTES), truncate=True, clock=clock)
    return Response(
        url=str(url),
        status=status,
        headers=response.headers,
        body=body,
        truncated=cut,
        redirects=tuple(hops),
        peer=_peer(response),
    )
