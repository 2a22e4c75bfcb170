"""Fixtures for the sign-in tests: a real OpenID provider, TOTP codes, signed-in clients.

`oidc_provider` runs `oidc/server.mjs` (node `oidc-provider`, pinned by oidc/package-lock.json) on
127.0.0.1 once per test session and stops it by PID. It skips, saying why, when Node or the
installed npm packages (`npm ci` in oidc/) are missing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
READY_TIMEOUT_SECONDS = 60.0

# People the test provider knows (their account id is what one types on its login form).
OIDC_ACCOUNTS = {
    "ana": {"email": "ana@acme.test", "email_verified": True, "name": "Ana Acme"},
    "bea": {"email": "bea@acme.test", "email_verified": True, "name": "Bea Acme"},
    "newcomer": {"email": "newcomer@acme.test", "email_verified": True, "name": "New Comer"},
    "outsider": {"email": "someone@elsewhere.test", "email_verified": True, "name": "Out Sider"},
    "unverified": {"email": "carla@acme.test", "email_verified": False, "name": "Carla"},
    "victim": {"email": "victim@other.test", "email_verified": True, "name": "Not Theirs"},
}


def totp_code(secret: str, at: float | None = None, period: int = 30, digits: int = 6) -> str:
    """RFC 6238 (HMAC-SHA1), written here independently of allauth, from the base32 secret."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // period)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def _skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (the OpenID provider for the SSO tests runs on Node 20+)"
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        return f"the test OpenID provider is not installed: run `npm ci` in {OIDC_DIR}"
    return None


@dataclass
class OidcProvider:
    issuer: str
    pid: int

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """Dynamic client registration, as an administrator registers Tertulia in their provider."""
        with httpx.Client(trust_env=False, timeout=10.0) as http:
            response = http.post(
                f"{self.issuer}/reg",
                json={
                    "redirect_uris": [redirect_uri],
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "client_secret_basic",
                },
            )
        assert response.status_code == 201, response.text
        body = response.json()
        return str(body["client_id"]), str(body["client_secret"])

    def sign_in(self, authorize_url: str, account: str, stop_at: str) -> str:
        """Go through the provider's sign-in and consent pages as `account`; return the address it sends
        the browser back to (which starts with `stop_at`, Tertulia's callback)."""
        url = authorize_url
        with httpx.Client(trust_env=False, timeout=10.0, follow_redirects=False) as browser:
            for _step in range(20):
                if url.startswith(stop_at):
                    return url
                response = browser.get(url)
                if response.is_redirect:
                    url = urljoin(url, response.headers["location"])
                    continue
                assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:500]}"
                action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
                prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
                assert action and prompt, response.text[:2000]
                data = {"prompt": prompt.group(1)}
                if prompt.group(1) == "login":
                    data.update(login=account, password="any")
                posted = browser.post(urljoin(url, action.group(1)), data=data)
                assert posted.is_redirect, f"{posted.status_code} {posted.text[:500]}"
                url = urljoin(url, posted.headers["location"])
        raise AssertionError("the provider never sent the browser back")


def _read_ready_line(process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server.mjs exited with {process.returncode}")
        ready, _w, _x = select.select([process.stdout], [], [], 1.0)
        if not ready:
            continue
        line = process.stdout.readline()
        if line.startswith("{"):
            found: dict[str, str] = json.loads(line)
            if found.get("ready"):
                return found
    raise RuntimeError("the test OpenID provider did not start in time")


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    log_dir = Path(os.environ.get("TERTULIA_CI_LOGS") or tempfile.gettempdir())
    log_path = log_dir / f"oidc-provider-{os.getpid()}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["node", str(OIDC_DIR / "server.mjs")],
            cwd=OIDC_DIR,
            stdin=subprocess.PIPE,  # server.mjs stops when this closes, should we die first
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "ACCOUNTS": json.dumps(OIDC_ACCOUNTS), "PORT": "0"},
        )
        pidfile = os.environ.get("TERTULIA_TEST_PIDFILE")
        if pidfile:
            with Path(pidfile).open("a") as pids:
                pids.write(f"{process.pid}\n")
        try:
            try:
                ready = _read_ready_line(process)
            except RuntimeError as exc:
                log.flush()
                raise RuntimeError(f"{exc}; see {log_path}:\n{log_path.read_text()[-3000:]}") from None
            yield OidcProvider(issuer=ready["issuer"], pid=process.pid)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
