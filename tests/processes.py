"""Start, watch and stop real `tertulia` processes from tests.

Everything here talks to 127.0.0.1 only, waits with a deadline (never a bare
sleep-and-hope), and stops what it started by PID.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Variables a test process inherits from the root conftest or the developer's shell
# that would change which profile a child runs (e.g. TERTULIA_TASKS_IMMEDIATE=true
# would make `tertulia serve` run tasks inline instead of in its worker).
_PROFILE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it for a socket bound to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tertulia_env(data_dir: Path | None, **overrides: str | None) -> dict[str, str]:
    """A clean environment for a child `tertulia`: embedded profile unless overrides say otherwise."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TERTULIA_") and key not in _PROFILE_VARIABLES
    }
    # Keep the CI log folder and PID file (they are not configuration of the child).
    for key in ("TERTULIA_CI_LOGS", "TERTULIA_TEST_PIDFILE"):
        if key in os.environ:
            env[key] = os.environ[key]
    if data_dir is not None:
        env["TERTULIA_DATA_DIR"] = str(data_dir)
    # Children print the demo login and startup lines to a file we read while they run.
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def tertulia_command(*args: str) -> list[str]:
    # `python -m tertulia` is the installed `tertulia` script without depending on PATH.
    return [sys.executable, "-m", "tertulia", *args]


def run_tertulia(
    *args: str, env: Mapping[str, str], stdin: str | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        tertulia_command(*args),
        env=dict(env),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _record_pid(pid: int) -> None:
    """Let .ci/run stop anything a crashed test run left behind (it checks the command line first)."""
    pidfile = os.environ.get("TERTULIA_TEST_PIDFILE")
    if pidfile:
        with Path(pidfile).open("a") as handle:
            handle.write(f"{pid}\n")


def process_state(pid: int) -> str | None:
    """The kernel's one-letter state of `pid`, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(")") + 2 :].split()[0]


def is_running(pid: int) -> bool:
    # A zombie has exited; it only waits for its parent (or init) to collect it.
    state = process_state(pid)
    return state is not None and state != "Z"


def children_of(pid: int) -> dict[int, str]:
    """Direct children of `pid` with their command lines, read from /proc."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid:
            found[int(entry.name)] = cmdline
    return found


def wait_until_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid):
            return True
        time.sleep(0.1)
    return not is_running(pid)


class TertuliaProcess:
    """A long-running `tertulia` command (serve, demo) with its output in a log file.

    Output goes to a file rather than a pipe so a chatty process can never block
    on a full pipe while the test is busy elsewhere.
    """

    def __init__(self, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.args = args
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            tertulia_command(*args),
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.pid = self.process.pid
        self.known_children: set[int] = set()
        _record_pid(self.pid)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def describe(self) -> str:
        return f"`tertulia {' '.join(self.args)}` (pid {self.pid}); its output:\n{self.output()[-4000:]}"

    def workers(self) -> dict[int, str]:
        """Child processes running `tertulia worker`; remembered so stop() can make sure they end."""
        found = {pid: cmd for pid, cmd in children_of(self.pid).items() if " worker" in cmd}
        self.known_children.update(found)
        for pid in found:
            _record_pid(pid)
        return found

    def wait_for_output(self, pattern: str, timeout: float) -> re.Match[str]:
        compiled = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = compiled.search(self.output())
            if match:
                return match
            if self.process.poll() is not None:
                raise AssertionError(
                    f"exited with {self.process.returncode} before printing {pattern!r}: {self.describe()}"
                )
            time.sleep(0.2)
        raise AssertionError(f"did not print {pattern!r} within {timeout:.0f} s: {self.describe()}")

    def wait_healthy(self, base_url: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"exited with {self.process.returncode} before answering: {self.describe()}"
                )
            try:
                with no_proxy_opener().open(f"{base_url}/healthz", timeout=5) as response:
                    body = json.loads(response.read())
                if body == {"status": "ok"}:
                    self.workers()
                    return
                last_error = f"unexpected body {body!r}"
            except (OSError, ValueError) as exc:
                last_error = str(exc)
            time.sleep(0.3)
        raise AssertionError(
            f"/healthz did not answer within {timeout:.0f} s ({last_error}): {self.describe()}"
        )

    def stop(self, timeout: float = 20.0) -> int:
        """Ctrl+C (SIGINT) like an operator would, then SIGKILL if it does not end in time."""
        self.workers()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        # The worker watches its parent and stops within about a second; make sure.
        for pid in self.known_children:
            if not wait_until_gone(pid, 10.0):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()
        return self.process.returncode


# -- HTTP, stdlib only (the lockfile has no requests/httpx) ----------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def no_proxy_opener(
    jar: http.cookiejar.CookieJar | None = None, follow_redirects: bool = True
) -> urllib.request.OpenerDirector:
    # An empty ProxyHandler ignores http_proxy from the environment: tests talk to 127.0.0.1 directly.
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    if not follow_redirects:
        handlers.append(_NoRedirect())
    return urllib.request.build_opener(*handlers)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Browserless:
    """A cookie-keeping HTTP client, enough to sign in and make CSRF-protected requests."""

    jar: http.cookiejar.CookieJar = field(default_factory=http.cookiejar.CookieJar)

    def request(
        self, url: str, data: Mapping[str, str] | None = None, referer: str | None = None
    ) -> Response:
        encoded = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=encoded)  # noqa: S310 (http://127.0.0.1 only)
        if referer:
            request.add_header("Referer", referer)
        opener = no_proxy_opener(self.jar, follow_redirects=False)
        try:
            with opener.open(request, timeout=30) as response:
                return Response(
                    response.status, dict(response.headers), response.read().decode(errors="replace")
                )
        except urllib.error.HTTPError as exc:
            # 3xx and 4xx arrive as HTTPError once redirects are not followed.
            return Response(exc.code, dict(exc.headers), exc.read().decode(errors="replace"))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def log_in(self, base_url: str, email: str, password: str) -> Response:
        form = self.request(f"{base_url}/login/")
        assert form.status == 200, f"GET /login/ answered {form.status}"
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        assert match, "the login form has no CSRF token"
        return self.request(
            f"{base_url}/login/",
            {"csrfmiddlewaretoken": match.group(1), "login": email, "password": password},
            referer=f"{base_url}/login/",
        )


@dataclass(frozen=True)
class SseEvent:
    event: str
    data: str


class SseListener:
    """Reads a Server-Sent Events stream on a thread and queues each complete event."""

    def __init__(self, host: str, port: int, path: str, cookie: str) -> None:
        self.events: queue.Queue[SseEvent] = queue.Queue()
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream", "Cookie": cookie})
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.content_type = self.response.getheader("Content-Type", "")
        self.opened = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._read, name="sse-listener", daemon=True)
        if self.status == 200:
            self._thread.start()

    def _read(self) -> None:
        name, data = "message", []
        # close() pulls the connection from under readline(); whatever that raises ends the stream.
        with contextlib.suppress(Exception):
            while not self._closing:
                raw = self.response.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                if line.startswith("retry:"):
                    self.opened.set()  # the server's first line: the stream is open
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    self.events.put(SseEvent(name, "\n".join(data)))
                    name, data = "message", []

    def wait_for(self, topic: str, timeout: float) -> SseEvent:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {topic!r} event on the stream within {timeout:.0f} s")
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if event.event == topic:
                return event

    def close(self) -> None:
        self._closing = True
        # Shutting the socket down wakes the reader thread out of readline().
        sock = self.connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


@contextlib.contextmanager
def running(process: TertuliaProcess) -> Iterator[TertuliaProcess]:
    """Stop the process however the block ends."""
    try:
        yield process
    finally:
        process.stop()
