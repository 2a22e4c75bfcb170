"""Scale-out profile: two `tertulia serve` (two web processes, two workers) on one PostgreSQL + Redis.

Each server gets its own data directory, as if on its own machine; they share only
DATABASE_URL, REDIS_URL and TERTULIA_SECRET_KEY, which is what docs/operations.md
tells operators to share.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import (
    Browserless,
    SseListener,
    TertuliaProcess,
    free_port,
    is_running,
    run_tertulia,
    tertulia_command,
    tertulia_env,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
        reason="needs PostgreSQL and Redis; .ci/run provides them",
    ),
]

ADMIN_EMAIL = "ops@example.com"
ADMIN_PASSWORD = "scale-out-harbour-lantern-9"
ORGANIZATION = "Scale-out Co"
# A Redis database number of its own keeps this test's queue apart from the rest of the suite.
REDIS_DB = 14


def _with_path(url: str, path: str) -> str:
    return urllib.parse.urlsplit(url)._replace(path=path).geturl()


@pytest.fixture
def shared_services() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database (dropped afterwards) and a Redis database number on the CI servers."""
    import psycopg
    from psycopg import sql

    server_url = os.environ["DATABASE_URL"]
    name = f"tertulia_scaleout_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {
            "DATABASE_URL": _with_path(server_url, f"/{name}"),
            "REDIS_URL": _with_path(os.environ["REDIS_URL"], f"/{REDIS_DB}"),
            # Sessions and CSRF tokens are signed with it: every machine must have the same one.
            "TERTULIA_SECRET_KEY": secrets.token_urlsafe(50),
        }
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@dataclass
class Cluster:
    a: TertuliaProcess
    b: TertuliaProcess
    url_a: str
    url_b: str
    port_b: int
    env: dict[str, str]
    organization_id: int


@pytest.fixture
def cluster(shared_services: dict[str, str], tmp_path: Path) -> Iterator[Cluster]:
    env_a = tertulia_env(tmp_path / "machine-a", **shared_services)
    env_b = tertulia_env(tmp_path / "machine-b", **shared_services)

    migrated = run_tertulia("migrate", env=env_a)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    admin = run_tertulia(
        "createadmin",
        "--email",
        ADMIN_EMAIL,
        "--password-stdin",
        "--organization",
        ORGANIZATION,
        env=env_b,
        stdin=f"{ADMIN_PASSWORD}\n",
    )
    assert admin.returncode == 0, admin.stdout + admin.stderr
    found = shell(env_a, f"print(Organization.objects.get(name={ORGANIZATION!r}).pk)")
    organization_id = int(found.strip().splitlines()[-1])

    port_a, port_b = free_port(), free_port()
    a = TertuliaProcess(["serve", "--port", str(port_a)], env_a, tmp_path / "serve-a.log")
    b = TertuliaProcess(["serve", "--port", str(port_b)], env_b, tmp_path / "serve-b.log")
    try:
        yield Cluster(
            a, b, f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}", port_b, env_a, organization_id
        )
    finally:
        a.stop()
        b.stop()


def shell(env: dict[str, str], code: str) -> str:
    """Run Python inside a configured Tertulia (what an operator does with `tertulia manage shell`)."""
    prelude = "from tertulia.core.models import Organization\n"
    result = run_tertulia("manage", "shell", "--verbosity", "0", "-c", prelude + code, env=env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def wait_for_file(path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.2)
    raise AssertionError(f"no worker wrote {path} within {timeout:.0f} s")


def test_two_web_processes_and_two_workers_share_one_database_and_redis(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.a.wait_healthy(cluster.url_a)
    cluster.b.wait_healthy(cluster.url_b)
    workers = {**cluster.a.workers(), **cluster.b.workers()}
    assert len(cluster.a.workers()) == 1 and len(cluster.b.workers()) == 1, workers

    # Sessions live in the shared database: sign in through A, carry on through B.
    client = Browserless()
    signed_in = client.log_in(cluster.url_a, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert signed_in.status == 302, f"sign-in through A answered {signed_in.status}"
    assert client.cookie("tertulia_session"), "no session cookie after signing in"
    page_on_b = client.request(f"{cluster.url_b}/inbox/")
    assert page_on_b.status == 200, f"B answered {page_on_b.status} {page_on_b.headers.get('Location', '')}"

    # A change made through A (the user's language, stored in the database) shows on B.
    csrf = client.cookie("tertulia_csrftoken")
    assert csrf, "no CSRF cookie"
    switched = client.request(
        f"{cluster.url_a}/switch/language/",
        {"csrfmiddlewaretoken": csrf, "language": "es", "next": "/inbox/"},
        referer=f"{cluster.url_a}/inbox/",
    )
    assert switched.status == 302, f"language switch through A answered {switched.status}"
    assert '<html lang="es">' in client.request(f"{cluster.url_b}/inbox/").body

    # Live updates: a page open on B hears events published by other processes, through Redis.
    listener = SseListener("127.0.0.1", cluster.port_b, "/live/stream", client.cookie_header())
    try:
        assert listener.status == 200, f"/live/stream on B answered {listener.status}"
        assert listener.content_type.startswith("text/event-stream")
        assert listener.opened.wait(15), "the stream sent no first line"
        _hear_a_probe_published_elsewhere(cluster, listener)

        # The queue is shared: any worker may take a task, and its live event reaches B too.
        markers = [tmp_path / f"ping-{n}.txt" for n in range(4)]
        shell(
            cluster.env,
            "from tertulia.tasks.diagnostics import ping\n"
            + "".join(f"ping({str(m)!r}, {cluster.organization_id})\n" for m in markers),
        )
        ran_on = {int(wait_for_file(marker, timeout=60).split()[-1]) for marker in markers}
        assert ran_on <= set(workers), f"tasks ran on {ran_on}, not on the workers {set(workers)}"
        event = listener.wait_for("diagnostics.ping", timeout=30)
        assert "worker" in event.data, event.data
    finally:
        listener.close()

    # Ctrl+C on each server (exit codes: test_serve_embedded.py::test_stop_signals_exit_cleanly).
    for server in (cluster.a, cluster.b):
        server.stop()
        assert "Traceback" not in server.output(), server.describe()
    leftovers = [pid for pid in workers if is_running(pid)]
    assert not leftovers, f"workers still running after both servers stopped: {leftovers}"


def _hear_a_probe_published_elsewhere(cluster: Cluster, listener: SseListener) -> None:
    """Publish from a separate process until B's stream relays it.

    B subscribes to Redis just after it sends the stream's first line; repeating the
    probe (bounded) avoids racing that subscription without guessing a sleep.
    """
    code = (
        "import time\n"
        "from django.db import transaction\n"
        "from tertulia.live.publish import notify_organization\n"
        "for n in range(60):\n"
        "    with transaction.atomic():\n"
        f"        notify_organization({cluster.organization_id}, 'scaleout.probe', n=n)\n"
        "    time.sleep(0.5)\n"
    )
    publisher = subprocess.Popen(
        tertulia_command("manage", "shell", "--verbosity", "0", "-c", code),
        env=cluster.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        listener.wait_for("scaleout.probe", timeout=40)
    finally:
        publisher.kill()
        publisher.wait(timeout=10)
