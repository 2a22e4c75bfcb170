"""A feed server on 127.0.0.1: serves documents by path, with ETag/Last-Modified and 304s.

Tests set `documents[path] = (content_type, body)` and read `requests` to check
what the connector sent. A growing feed (`LiveFeed`) lets tests add entries
between polls, as a blog does.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Route:
    content_type: str = "application/rss+xml; charset=utf-8"
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # answer 304 when the validators match
    chunked: bool = False  # no Content-Length: the client must count what it reads


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(
                        Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                    route = server.routes.get(self.path)
                if route is None:
                    self._send(404, "text/plain", b"not found", {})
                    return
                etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                modified = "Sun, 01 Jun 2025 12:00:00 GMT"
                headers = {"ETag": etag, "Last-Modified": modified, **route.headers}
                if route.conditional and route.status == 200 and self.headers.get("If-None-Match") == etag:
                    self._send(304, "", b"", {"ETag": etag})
                    return
                self._send(route.status, route.content_type, route.body, headers, chunked=route.chunked)

            def _send(
                self,
                status: int,
                content_type: str,
                body: bytes,
                headers: dict[str, str],
                chunked: bool = False,
            ) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for start in range(0, len(body), 65536):
                            part = body[start : start + 65536]
                            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading, as it should past its limit
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    with suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def serve(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "application/rss+xml; charset=utf-8",
        **kw: object,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(content_type=content_type, body=data, **kw)  # type: ignore[arg-type]  # test helper kwargs
        return self.url + path

    @contextmanager
    def running(self) -> Iterator[FeedServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


class LiveFeed:
    """An RSS feed that grows: `add(n)` publishes n posts; the feed lists the newest `window`."""

    def __init__(self, server: FeedServer, path: str = "/live.xml", window: int = 50) -> None:
        self.server = server
        self.path = path
        self.window = window
        self.items: list[tuple[str, str, datetime]] = []
        self.url = server.serve(path, self.render())

    def add(self, count: int, text: str = "Post") -> None:
        for _ in range(count):
            n = len(self.items) + 1
            moment = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=n)
            self.items.append((f"urn:post:{n}", f"{text} {n}", moment))
        self.server.serve(self.path, self.render())

    def render(self) -> str:
        entries = "".join(
            f"<item><guid isPermaLink='false'>{guid}</guid><title>{escape(title)}</title>"
            f"<link>https://blog.example/{guid.rsplit(':', 1)[1]}</link>"
            f"<description>{escape(title)} body</description>"
            f"<pubDate>{format_datetime(moment)}</pubDate></item>"
            for guid, title, moment in reversed(self.items[-self.window :])
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Live blog</title><link>https://blog.example/</link><description>d</description>{entries}"
            "</channel></rss>"
        )
