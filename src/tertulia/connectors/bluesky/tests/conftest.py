"""The Bluesky reference network for end-to-end tests, started once per test session.

`devnet` runs `devnet/start.mjs` (PLC, PDS, AppView and Ozone from `@atproto/dev-env`,
bound to 127.0.0.1, storing in PostgreSQL) and stops it by PID at the end. It skips,
saying why, when Node, the installed npm packages (`npm ci` in devnet/) or a PostgreSQL
DATABASE_URL are missing, so the SQLite suite runs without it. `devnet_on_loopback` lets
every test that uses it reach the network's private address (see there).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from atproto_client import Client, models

DEVNET_DIR = Path(__file__).resolve().parent.parent / "devnet"
READY_TIMEOUT_SECONDS = 180.0
PASSWORD = "correct-horse-battery"


def _skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (the Bluesky reference network runs on Node 20)"
    if not (DEVNET_DIR / "node_modules" / "@atproto" / "dev-env").is_dir():
        return f"the Bluesky reference network is not installed: run `npm ci` in {DEVNET_DIR}"
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql://", "postgres://")):
        return "the Bluesky reference network needs PostgreSQL: set DATABASE_URL to a postgresql:// URL"
    return None


@dataclass
class Account:
    did: str
    handle: str
    password: str
    client: Client

    def post(self, text: str, **kwargs: Any) -> models.AppBskyFeedPost.CreateRecordResponse:
        facets = self.client.detect_facets(text) or None
        return self.client.send_post(text, profile_identify=self.did, facets=facets, **kwargs)


@dataclass
class Devnet:
    urls: dict[str, str]
    pid: int
    _counter: list[int] = field(default_factory=lambda: [0])

    @property
    def pds(self) -> str:
        return self.urls["pds"]

    def process_all(self) -> None:
        """Wait until the AppView has indexed everything written so far."""
        response = httpx.post(f"{self.urls['control']}/process-all", timeout=60.0)
        assert response.status_code == 200, response.text

    def create_account(self, prefix: str = "u") -> Account:
        self._counter[0] += 1
        handle = f"{prefix}{self._counter[0]}{uuid.uuid4().hex[:6]}.test"
        client = Client(base_url=self.pds)
        created = client.com.atproto.server.create_account(
            models.ComAtprotoServerCreateAccount.Data(
                handle=handle, email=f"{handle}@example.com", password=PASSWORD
            )
        )
        client.login(handle, PASSWORD, fetch_bsky_profile=False)
        # Keep talking to the PDS we were given (the DID document says localhost).
        client.update_base_url(self.pds)
        client.com.atproto.repo.put_record(
            models.ComAtprotoRepoPutRecord.Data(
                repo=created.did,
                collection="app.bsky.actor.profile",
                rkey="self",
                record=models.AppBskyActorProfile.Record(display_name=f"{prefix.title()} {handle}"),
            )
        )
        # What the SDK's like()/repost()/send_post() take the repo from (login skipped the profile).
        client.me = models.AppBskyActorDefs.ProfileViewDetailed(did=created.did, handle=handle)
        return Account(did=created.did, handle=handle, password=PASSWORD, client=client)

    def app_password(self, account: Account) -> str:
        created = account.client.com.atproto.server.create_app_password(
            models.ComAtprotoServerCreateAppPassword.Data(name=f"tertulia-{uuid.uuid4().hex[:8]}")
        )
        return str(created.password)


def _read_ready_line(stdout: IO[str], process: subprocess.Popen[str]) -> dict[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"start.mjs exited with {process.returncode}")
        ready, _w, _x = select.select([stdout], [], [], 1.0)
        if not ready:
            continue
        line = stdout.readline()
        if line.startswith("{"):
            found: dict[str, str] = json.loads(line)
            if found.get("ready"):
                return found
    raise RuntimeError("the Bluesky reference network did not start in time")


@pytest.fixture(autouse=True)
def devnet_on_loopback(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test that uses `devnet` (directly or through another fixture) may reach 127.0.0.1.

    The reference network listens on 127.0.0.1, which the outbound policy refuses to Bluesky's
    sign-in and to every account's requests to its PDS (docs/outbound.md). `devnet` itself lives
    for the whole session and cannot take the per-test `settings` fixture, and a session-wide
    override would leak into the tests that prove refusals: so this per-test fixture opens it, for
    this process (the setting) and for child processes that inherit the environment (settings.py
    reads the variable at start). Tests that build a child's environment by hand, as
    test_publish_kill.py does, set the variable themselves. Modules outside this directory import
    this fixture together with `devnet`.
    """
    if "devnet" not in request.fixturenames:
        return
    monkeypatch.setenv("TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES", "true")
    settings = request.getfixturevalue("settings")
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    log_dir = Path(os.environ.get("TERTULIA_CI_LOGS") or tempfile.gettempdir())
    log_path = log_dir / f"bluesky-devnet-{os.getpid()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["node", str(DEVNET_DIR / "start.mjs")],
            cwd=DEVNET_DIR,
            stdin=subprocess.PIPE,  # start.mjs stops when this closes, should we die first
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "LOG_ENABLED": "false"},
        )
        pidfile = os.environ.get("TERTULIA_TEST_PIDFILE")
        if pidfile:
            with Path(pidfile).open("a") as pids:
                pids.write(f"{process.pid}\n")
        try:
            assert process.stdout is not None
            try:
                urls = _read_ready_line(process.stdout, process)
            except RuntimeError as exc:
                log.flush()
                raise RuntimeError(f"{exc}; see {log_path}:\n{log_path.read_text()[-3000:]}") from None
            yield Devnet(urls=urls, pid=process.pid)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
