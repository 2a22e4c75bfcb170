"""A feed server on 127.0.0.1: serves documents by path, with ETag/Last-Modified and 304s.

Tests set `documents[path] = (content_type, body)` and read `requests` to check
what the connector sent. A growing feed (`LiveFeed`) lets tests add entries
between polls, as a blog does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from tertulia.connectors.testing.http_server import Incoming, LocalServer, Outgoing


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


class FeedServer(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []

    def answer(self, request: Incoming) -> Outgoing:
        if request.method != "GET":
            return Outgoing(501)  # a feed reader only ever GETs
        with self.lock:
            self.requests.append(Seen("GET", request.target, request.headers))
            route = self.routes.get(request.target)
        if route is None:
            return Outgoing(404, b"not found", {"Content-Type": "text/plain"})
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        if route.conditional and route.status == 200 and request.headers.get("if-none-match") == etag:
            return Outgoing(304, b"", {"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": "Sun, 01 Jun 2025 12:00:00 GMT", **route.headers}
        if route.content_type:
            headers = {"Content-Type": route.content_type, **headers}
        return Outgoing(route.status, route.body, headers, chunked=route.chunked)

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
