"""The skeleton of a hand-written fake network: a real HTTP server on 127.0.0.1 on a free port.

For networks with no machine-readable spec to validate against (LinkedIn, WordPress, feeds); those
with one use `spec_server.SpecServer`. A fake subclasses `LocalServer` and implements `answer`,
which gets every request (any method) and returns what to send back; the fake records what it needs
and checks what its network's documentation demands. The connector under test speaks real HTTP to
`url`, so its headers, encoding and error handling are exercised as they would be in production.

    class FakeSite(LocalServer):
        def answer(self, request: Incoming) -> Outgoing:
            return json_answer(200, {"id": 1})

    with FakeSite().running() as site:
        ...  # point the client at site.url
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

CHUNK = 65536


@dataclass(frozen=True)
class Incoming:
    method: str
    target: str  # the path and query as sent, still percent-encoded
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    def recorded(self, body: Any) -> Recorded:
        """What a fake keeps of this request, with the body as it decoded it."""
        return Recorded(self.method, self.path, parse_qs(self.raw_query), self.headers, body)


@dataclass
class Recorded:
    method: str
    path: str  # still percent-encoded, as sent
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Outgoing:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    chunked: bool = False  # no Content-Length: the client must count what it reads


def json_answer(
    status: int,
    payload: Any,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Outgoing:
    """`payload` as a JSON body; None is no body (and no Content-Type) at all, as for a 204."""
    if payload is None:
        return Outgoing(status, b"", dict(headers or {}))
    return Outgoing(status, json.dumps(payload).encode(), {"Content-Type": content_type, **(headers or {})})


class LocalServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # the server answers on several threads; fakes guard their state
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def answer(self, request: Incoming) -> Outgoing:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator[Self]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


def _handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the clients use it

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            _send(self, server.answer(Incoming(self.command, self.path, headers, body)))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, format: str, *args: object) -> None:
            pass  # tests assert on what the fake recorded, not on stderr

    return Handler


def _send(handler: BaseHTTPRequestHandler, answer: Outgoing) -> None:
    handler.send_response(answer.status)
    for name, value in answer.headers.items():
        handler.send_header(name, value)
    # A client that stops reading (past its size limit, say) is doing its job, not failing the test.
    with suppress(BrokenPipeError, ConnectionResetError):
        if answer.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            for start in range(0, len(answer.body), CHUNK):
                part = answer.body[start : start + CHUNK]
                handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
            return
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        if answer.status != 304:  # a 304 never has a body
            handler.wfile.write(answer.body)
