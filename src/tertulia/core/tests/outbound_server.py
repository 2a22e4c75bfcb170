"""A real HTTP (or HTTPS) server on a loopback address, for the outbound tests.

Routes answer by path; every request is recorded (method, path, headers, body, and the TLS server
name the client asked for). `host` may be any 127.x address (Linux answers on all of 127/8), so a
test can tell which address a client really connected to.

    with Site().running() as site:
        url = site.route("/page", b"<title>x</title>", headers={"Content-Type": "text/html"})
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    server_name: str  # TLS SNI ("" over plain HTTP)


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False  # no Content-Length
    drip: float = 0.0  # seconds between single bytes (a slow-loris server)
    answer: Callable[[Seen], tuple[int, bytes, dict[str, str]]] | None = None  # computed per request


class Site:
    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None, port: int = 0) -> None:
        self.lock = threading.Lock()
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.server_names: list[str] = []
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
        if tls is not None:
            tls.sni_callback = self._sni
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.port = int(self.httpd.server_address[1])
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"

    def _sni(self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, context: ssl.SSLContext) -> None:
        with self.lock:
            self.server_names.append(name or "")

    def route(self, path: str, body: bytes | str = b"", status: int = 200, **options: object) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(status=status, body=data, **options)  # type: ignore[arg-type]  # test helper
        return self.url + path

    def seen(self, path: str) -> list[Seen]:
        with self.lock:
            return [request for request in self.requests if request.path == path]

    @contextmanager
    def running(self) -> Iterator[Self]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            name = ""
            with site.lock:
                if site.server_names:
                    name = site.server_names[-1]
                seen = Seen(self.command, self.path, headers, body, name)
                site.requests.append(seen)
                route = site.routes.get(self.path.split("?")[0])
            if route is None:
                self._send(Route(status=404, body=b"not found"))
                return
            if route.answer is not None:
                status, payload, extra = route.answer(seen)
                route = Route(status=status, body=payload, headers=extra)
            self._send(route)

        def _send(self, route: Route) -> None:
            with suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.chunked or route.drip:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    step = 1 if route.drip else 65536
                    for start in range(0, len(route.body), step):
                        part = route.body[start : start + step]
                        self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                        if route.drip:
                            self.wfile.flush()
                            time.sleep(route.drip)
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if self.command != "HEAD" and route.status != 304:
                    self.wfile.write(route.body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
