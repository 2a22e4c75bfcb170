"""Proof of exactly-once publishing: workers are SIGKILLed at random points while a burst of due
posts goes out; they are restarted until the ledger is done; every target must be on the network
exactly once, and the ledger must point at that one post.

Runs twice: on sandbox accounts that honour idempotency keys (as Mastodon and Bluesky do), and on
accounts that ignore them (as X and Facebook do), where only the reconciliation step stands between
a killed worker and a double post. On the embedded default (SQLite) here; .ci/run also runs it on
PostgreSQL + Redis. The same proof on the Bluesky reference network is in
tertulia/connectors/bluesky/tests/test_publish_kill.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import sqlite3
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import TertuliaProcess, run_tertulia, tertulia_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TARGETS = 300
CHANNELS = 8
# The sandbox stores each post at once and answers 150 ms later: a kill in that window leaves a
# post on the network that the ledger does not know of yet — the case reconciliation exists for.
RESPONSE_DELAY_MS = 150
KILLS = 20  # at random moments; then the survivors finish the burst
# If none of those landed between the network taking a post and the worker recording it (a busy
# machine stretches the rest of the work around that window), kills aimed at the window follow.
AIMED_KILLS = 8
DEADLINE = 240.0  # seconds for the whole burst, kills included
REDIS_DB = 13
LEASE_SECONDS = 3


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The embedded default, or a fresh PostgreSQL database and a Redis database when CI has them."""
    base = {
        # A killed worker's claims are taken over quickly, so the test sees many takeovers.
        "TERTULIA_PUBLISH_LEASE_SECONDS": str(LEASE_SECONDS),
        "TERTULIA_PUBLISH_THREADS": "2",
        "TERTULIA_SECRET_KEY": secrets.token_urlsafe(50),
    }
    server_url = os.environ.get("DATABASE_URL")
    if not (server_url and os.environ.get("REDIS_URL")):
        yield tertulia_env(tmp_path / "data", **base)
        return
    import psycopg
    from psycopg import sql

    name = f"tertulia_exactly_once_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        redis = urllib.parse.urlsplit(os.environ["REDIS_URL"])._replace(path=f"/{REDIS_DB}").geturl()
        database = urllib.parse.urlsplit(server_url)._replace(path=f"/{name}").geturl()
        yield tertulia_env(tmp_path / "data", DATABASE_URL=database, REDIS_URL=redis, **base)
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _query(env: dict[str, str], sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Read the child's database directly (`%s` placeholders; the test, not the product, counts)."""
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], connect_timeout=10) as connection:
            return list(connection.execute(sql, params).fetchall())
    sql = sql.replace("%s", "?")
    with contextlib.closing(
        sqlite3.connect(Path(env["TERTULIA_DATA_DIR"]) / "tertulia.sqlite3", timeout=30)
    ) as db:
        return list(db.execute(sql, params).fetchall())


def _unrecorded_posts(env: dict[str, str], organization: int) -> int:
    """Posts the network holds that the ledger has not recorded as sent yet: a worker is in the window."""
    posts = _query(
        env,
        "SELECT COUNT(*) FROM sandbox_sandboxpost p JOIN sandbox_sandboxaccount a ON a.id = p.author_id "
        "WHERE a.handle IN (SELECT handle FROM core_channel WHERE organization_id = %s)",
        organization,
    )[0][0]
    return int(posts) - _states(env, organization).get("sent", 0)


def _reconciled(env: dict[str, str], organization: int) -> int:
    rows = _query(
        env,
        "SELECT COUNT(*) FROM publishing_deliveryattempt a JOIN publishing_deliverytarget t "
        "ON t.id = a.target_id WHERE t.organization_id = %s AND a.outcome = 'reconciled'",
        organization,
    )
    return int(rows[0][0])


def _states(env: dict[str, str], organization: int) -> Counter[str]:
    rows = _query(
        env,
        "SELECT state, COUNT(*) FROM publishing_deliverytarget WHERE organization_id = %s GROUP BY state",
        organization,
    )
    return Counter(dict(rows))


@pytest.mark.parametrize("keys", ["honoured", "ignored"])
def test_every_target_is_published_exactly_once_however_workers_die(environment, tmp_path: Path, keys: str):
    env = environment
    assert run_tertulia("migrate", env=env, timeout=300).returncode == 0
    staged = run_tertulia(
        "manage",
        "publishing_burst",
        "--name",
        keys,
        "--channels",
        str(CHANNELS),
        "--targets",
        str(TARGETS),
        "--response-delay-ms",
        str(RESPONSE_DELAY_MS),
        *(["--no-idempotency-keys"] if keys == "ignored" else []),
        env=env,
    )
    assert staged.returncode == 0, staged.stderr
    summary = json.loads(staged.stdout.strip().splitlines()[-1])
    organization = summary["organization"]
    assert summary["targets"] == TARGETS

    rng = random.Random(20261121)
    workers = [TertuliaProcess(["worker", "--threads", "1"], env, tmp_path / f"w{n}.log") for n in range(2)]
    kills = aimed = 0

    def kill(victim: int) -> None:
        nonlocal kills
        if workers[victim].process.poll() is None:
            workers[victim].process.send_signal(signal.SIGKILL)
            workers[victim].process.wait(timeout=10)
            kills += 1
        workers[victim] = TertuliaProcess(
            ["worker", "--threads", "1"], env, tmp_path / f"w{victim}-{kills}.log"
        )

    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            states = _states(env, organization)
            if states.get("sent", 0) == TARGETS:
                break
            assert not set(states) - {"scheduled", "due", "claimed", "sent"}, states
            if kills < KILLS and states.get("claimed"):
                # Only while a worker holds work, so every kill lands mid-delivery.
                time.sleep(rng.uniform(0.0, 0.6))
                kill(rng.randrange(len(workers)))
            elif (
                kills >= KILLS
                and aimed < AIMED_KILLS
                and not _reconciled(env, organization)
                and _unrecorded_posts(env, organization) > 0
            ):
                # Both workers at once: whichever holds the unrecorded post dies before recording it.
                aimed += 1
                for victim in range(len(workers)):
                    kill(victim)
                time.sleep(LEASE_SECONDS + 1)  # the dead worker's lease runs out, a takeover reconciles
            else:
                time.sleep(0.02 if kills >= KILLS else 0.1)
        else:
            pytest.fail(f"not done in {DEADLINE:.0f} s after {kills} kills: {_states(env, organization)}")
    finally:
        for worker in workers:
            worker.stop()

    assert kills >= KILLS
    targets = _query(
        env,
        "SELECT t.id, t.remote_id, t.payload, t.lease_token, c.handle FROM publishing_deliverytarget t "
        "JOIN core_channel c ON c.id = t.channel_id WHERE t.organization_id = %s",
        organization,
    )
    posts = _query(
        env,
        "SELECT p.id, a.handle, p.text FROM sandbox_sandboxpost p "
        "JOIN sandbox_sandboxaccount a ON a.id = p.author_id "
        "WHERE a.handle IN (SELECT handle FROM core_channel WHERE organization_id = %s)",
        organization,
    )
    on_network = Counter((handle, text) for _id, handle, text in posts)
    ids = {(handle, text): str(post_id) for post_id, handle, text in posts}
    assert len(targets) == TARGETS
    for target_id, remote_id, payload, _token, handle in targets:
        text = (json.loads(payload) if isinstance(payload, str) else payload)["text"]
        assert on_network[(handle, text)] == 1, (
            f"target {target_id} is on the network {on_network[(handle, text)]} times"
        )
        assert remote_id == ids[(handle, text)]
    assert len(posts) == TARGETS  # nothing else was published either
    # The kills landed mid-work: some targets were taken over from a dead worker.
    taken_over = sum(1 for *_rest, token, _handle in targets if token >= 2)
    outcomes = Counter(
        dict(
            _query(
                env,
                "SELECT a.outcome, COUNT(*) FROM publishing_deliveryattempt a "
                "JOIN publishing_deliverytarget t ON t.id = a.target_id "
                "WHERE t.organization_id = %s GROUP BY a.outcome",
                organization,
            )
        )
    )
    print(
        f"keys {keys}: {kills} kills ({aimed} aimed), {taken_over} targets taken over, "
        f"attempts {dict(outcomes)}"
    )
    assert taken_over >= 1
    # At least one worker died after the network took its post and before it could record it.
    assert outcomes["reconciled"] >= 1
