"""A proxy on 127.0.0.1 in front of the reference PDS that answers createRecord late.

Every request is passed on to the PDS as it came; the answer to `com.atproto.repo.createRecord` is
held for `delay` seconds after the PDS gave it — the post exists, the worker does not know yet (the
sandbox's `response_delay_ms` does the same). A worker killed in that window has its createRecord in
flight: the proxy then finds the connection closed and notes the post's text in `unheard`.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

CREATE_RECORD = "/xrpc/com.atproto.repo.createRecord"
# Hop-by-hop or recomputed headers, not passed on either way.
_SKIP = frozenset(
    {"host", "connection", "keep-alive", "content-length", "transfer-encoding", "accept-encoding"}
)
_SKIP_BACK = frozenset(
    {"connection", "keep-alive", "content-length", "transfer-encoding", "content-encoding"}
)


def _gone(connection: socket.socket) -> bool:
    """Whether the client closed its end (a killed process's sockets are closed by the kernel)."""
    readable, _w, _x = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's client expects
    server: SlowAnswers

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the test prints what matters

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _SKIP}
        answer = self.server.upstream.request(self.command, self.path, headers=headers, content=body)
        creating = (
            self.command == "POST" and self.path.startswith(CREATE_RECORD) and answer.status_code == 200
        )
        if creating:
            # The network's slowness this proxy exists to simulate (not a wait for a condition).
            time.sleep(self.server.delay)
            if _gone(self.connection):
                self._unheard(body)
                self.close_connection = True
                return
        try:
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in _SKIP_BACK:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)
            self.wfile.flush()
        except OSError:
            if creating:
                self._unheard(body)
            self.close_connection = True

    def _unheard(self, body: bytes) -> None:
        text = str(json.loads(body).get("record", {}).get("text", ""))
        with self.server.lock:
            self.server.unheard.append(text)


class SlowAnswers(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pds: str, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.upstream = httpx.Client(base_url=pds, timeout=60.0, trust_env=False)
        self.lock = threading.Lock()
        # Texts of posts the PDS created whose answer never reached the worker that asked.
        self.unheard: list[str] = []

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a killed worker's connection: expected, and counted where it matters
        super().handle_error(request, client_address)  # type: ignore[arg-type]  # typeshed wants a socket and an address tuple; ours are whatever the server passed in

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def slow_answers(pds: str, delay: float) -> Iterator[SlowAnswers]:
    proxy = SlowAnswers(pds, delay)
    thread = threading.Thread(target=proxy.serve_forever, name="slow-answers", daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        proxy.upstream.close()
        thread.join(timeout=10)
