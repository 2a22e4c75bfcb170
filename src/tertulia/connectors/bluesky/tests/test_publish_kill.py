"""Proof of exactly-once publishing on the Bluesky reference network (PLC + PDS from @atproto/dev-env).

The proof of tests/process/test_exactly_once.py with the real Bluesky servers in place of the sandbox:
60 due posts on three devnet accounts, connected as channels with app passwords, go out through two real
`tertulia worker` processes that are SIGKILLed 12 times and restarted. Then the accounts' repositories on
the PDS (`com.atproto.repo.listRecords`) must hold each target's text exactly once, the ledger must point
at that record, and nothing else may have been published.

The workers reach the PDS through a proxy that answers createRecord 150 ms after the PDS did
(slow_answers.py), as the sandbox does. Half the kills are aimed: the test polls the PDS and kills the
worker holding a target as soon as its post appears there while the ledger still has it claimed, most
often while the proxy still holds the answer, so the worker dies with its createRecord in flight. The
other half land at random moments while a worker holds work. Bluesky takes no idempotency-key header:
the record key derived from the delivery's key makes a resend harmless, but the retry must first find
our own post (`find_own_post`) and record it as reconciled — checked for every target a kill left on
the network and not in the ledger.

A killed worker's claims are released at once (`_expire_leases_of`): the engine stretches the lease of a
Bluesky send to its worst case (a minute or more), and waiting that out after each kill would only make
the test slower. The workers run on the embedded profile (SQLite) in a data directory of their own; like
the other Bluesky end-to-end tests this one skips without Node, the installed devnet or a PostgreSQL
DATABASE_URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tertulia.connectors.bluesky.records import POST_COLLECTION, parse_at_uri
from tertulia.connectors.bluesky.tests.conftest import Devnet
from tertulia.connectors.bluesky.tests.slow_answers import slow_answers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

ACCOUNTS = 3
TARGETS = 60  # more than one dispatcher batch (50), so two workers send at once
KILLS = 12  # every other one aimed at a post the network has and the ledger does not
WORKERS = 2
# The proxy answers createRecord this much after the PDS did: a kill in that window leaves a post on the
# network that the worker never heard of (as the sandbox's 150 ms in tests/process/test_exactly_once.py).
RESPONSE_DELAY_SECONDS = 0.15
LEASE_SECONDS = 10  # a live worker keeps its batch; a killed one's claims are released at once
DEADLINE = 180.0  # seconds for the whole burst, kills included
# Variables of the test process that would change the child's profile or data directory.
_PROFILE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
STAGE = "from tertulia.connectors.bluesky.tests.burst import main; main()"


def _child_env(data_dir: Path) -> dict[str, str]:
    """The embedded profile in its own data directory, whatever the test process runs on."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TERTULIA_") and key not in _PROFILE_VARIABLES
    }
    for key in ("TERTULIA_CI_LOGS", "TERTULIA_TEST_PIDFILE"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(
        TERTULIA_DATA_DIR=str(data_dir),
        TERTULIA_PUBLISH_LEASE_SECONDS=str(LEASE_SECONDS),
        TERTULIA_PUBLISH_THREADS="2",
        TERTULIA_SECRET_KEY=secrets.token_urlsafe(50),
        # The devnet and the slow proxy are on 127.0.0.1, which the outbound policy refuses to
        # Bluesky accounts (docs/outbound.md); the TERTULIA_* variables above were not inherited.
        TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def _tertulia(*args: str, env: dict[str, str], stdin: str = "", timeout: float = 300.0) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tertulia", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"`tertulia {' '.join(args)}` failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Worker:
    """One `tertulia worker` process, its output in a log file (a full pipe could block it)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tertulia", "worker", "--threads", "1"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        pidfile = os.environ.get("TERTULIA_TEST_PIDFILE")
        if pidfile:  # .ci/run stops what a crashed run left behind
            with Path(pidfile).open("a") as handle:
                handle.write(f"{self.process.pid}\n")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        """Ctrl+C as an operator would, SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@dataclass(frozen=True)
class Row:
    id: int
    state: str
    owner_pid: int | None  # the worker process holding the lease (worker names are host:pid:thread)
    remote_id: str
    url: str
    text: str
    handle: str
    did: str


def _ledger(data_dir: Path, organization: int) -> list[Row]:
    """The child's ledger, read directly (the test, not the product, counts)."""
    with contextlib.closing(sqlite3.connect(data_dir / "tertulia.sqlite3", timeout=30)) as db:
        rows = db.execute(
            "SELECT t.id, t.state, t.lease_owner, t.remote_id, t.url, t.payload, c.handle, "
            "c.external_id FROM publishing_deliverytarget t JOIN core_channel c ON c.id = t.channel_id "
            "WHERE t.organization_id = ? ORDER BY t.id",
            (organization,),
        ).fetchall()
    found = []
    for target_id, state, owner, remote_id, url, payload, handle, did in rows:
        parts = str(owner or "").split(":")
        found.append(
            Row(
                target_id,
                state,
                int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None,
                remote_id or "",
                url or "",
                json.loads(payload)["text"],
                handle,
                did,
            )
        )
    return found


def _query(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(data_dir / "tertulia.sqlite3", timeout=30)) as db:
        return list(db.execute(sql, params).fetchall())


def _expire_leases_of(data_dir: Path, pid: int) -> int:
    """Let the claims of a worker the test killed (and reaped) run out now rather than in a minute.

    The engine stretches a target's lease to cover its send's worst case right before the send (for
    Bluesky, the SDK's 30 s timeout per call plus a margin: 60-90 s), so a killed worker's targets
    would wait that long for a takeover. Its lease running out is all that waiting does: moving
    `lease_until` into the past changes only when the takeover (and its reconciliation) happens. It
    also lets the next worker in while the PDS may still be finishing the dead worker's createRecord.
    """
    with contextlib.closing(sqlite3.connect(data_dir / "tertulia.sqlite3", timeout=30)) as db, db:
        return db.execute(
            "UPDATE publishing_deliverytarget SET lease_until = '2000-01-01 00:00:00' "
            "WHERE state = 'claimed' AND lease_owner LIKE ?",
            (f"%:{pid}:%",),
        ).rowcount


def _records(pds: httpx.Client, did: str) -> list[dict[str, Any]]:
    """Every post in the account's repository, read from its PDS (no AppView indexing lag)."""
    records: list[dict[str, Any]] = []
    cursor = ""
    for _page in range(100):
        params = {"repo": did, "collection": POST_COLLECTION, "limit": "100"}
        if cursor:
            params["cursor"] = cursor
        response = pds.get("/xrpc/com.atproto.repo.listRecords", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        records.extend(body["records"])
        cursor = body.get("cursor") or ""
        if not cursor or not body["records"]:
            return records
    raise AssertionError("listRecords never ran dry")


class Watch:
    """The ledger and the PDS side by side, as the test polls them."""

    def __init__(self, data_dir: Path, organization: int, pds: httpx.Client, dids: list[str]) -> None:
        self.data_dir, self.organization, self.pds, self.dids = data_dir, organization, pds, dids
        # Target → the worker (pid) that held it when the PDS first showed its post.
        self.first_seen_with: dict[int, int | None] = {}

    def ledger(self) -> list[Row]:
        return _ledger(self.data_dir, self.organization)

    def listed(self) -> set[tuple[str, str]]:
        """(account, text) of every post on the PDS now."""
        return {(did, str(r["value"]["text"])) for did in self.dids for r in _records(self.pds, did)}

    @staticmethod
    def held(rows: list[Row], workers: list[Worker]) -> list[tuple[Row, int]]:
        """Each target claimed by a live worker, with that worker's index."""
        live = {worker.pid: n for n, worker in enumerate(workers)}
        return [
            (row, live[row.owner_pid])
            for row in rows
            if row.state == "claimed" and row.owner_pid is not None and row.owner_pid in live
        ]

    def unrecorded(self, workers: list[Worker]) -> list[tuple[Row, int]]:
        """Targets whose post is on the PDS while the ledger still has them claimed by the live worker
        that held them when the post appeared (so not a post a dead worker left for it to reconcile)."""
        rows, listed = self.ledger(), self.listed()
        for row in rows:
            if (row.did, row.text) in listed:
                self.first_seen_with.setdefault(row.id, row.owner_pid if row.state == "claimed" else None)
        return [
            (row, n)
            for row, n in self.held(rows, workers)
            if (row.did, row.text) in listed and self.first_seen_with[row.id] == row.owner_pid
        ]


def test_every_target_is_on_bluesky_exactly_once_however_workers_die(devnet: Devnet, tmp_path: Path) -> None:
    began = time.monotonic()
    accounts = [devnet.create_account("kill") for _ in range(ACCOUNTS)]
    dids = [a.did for a in accounts]
    data_dir = tmp_path / "data"
    env = _child_env(data_dir)
    _tertulia("migrate", env=env)
    with (
        slow_answers(devnet.pds, RESPONSE_DELAY_SECONDS) as proxy,
        httpx.Client(base_url=devnet.pds, timeout=30.0, trust_env=False) as pds,
    ):
        request = {
            "name": "bluesky-kill",
            "pds": devnet.pds,
            "service": proxy.url,  # the workers reach the PDS through the proxy
            "targets": TARGETS,
            "accounts": [{"handle": a.handle, "app_password": devnet.app_password(a)} for a in accounts],
        }
        staged = _tertulia("manage", "shell", "-c", STAGE, env=env, stdin=json.dumps(request))
        summary = json.loads(staged.strip().splitlines()[-1])
        organization = summary["organization"]
        assert summary["targets"] == TARGETS
        assert summary["channels"] == {a.handle: a.did for a in accounts}
        burst_began = time.monotonic()

        rng = random.Random(20261122)
        workers = [Worker(env, tmp_path / f"w{n}.log") for n in range(WORKERS)]
        kills = aimed_kills = 0
        caught: set[int] = set()  # targets an aimed kill left on the network and not in the ledger
        deadline = time.monotonic() + DEADLINE
        watch = Watch(data_dir, organization, pds, dids)
        try:
            while True:
                rows = watch.ledger()
                states = Counter(row.state for row in rows)
                if states["sent"] == TARGETS:
                    break
                assert time.monotonic() < deadline, f"not done in {DEADLINE:.0f} s, {kills} kills: {states}"
                assert not set(states) - {"scheduled", "due", "claimed", "sent"}, states
                for worker in workers:
                    assert worker.process.poll() is None, f"a worker exited by itself:\n{worker.output()}"
                held = watch.held(rows, workers)
                if kills >= KILLS or not held:
                    time.sleep(
                        0.05
                    )  # the poll interval of this loop: kill only while a live worker holds work
                    continue
                aimed = kills % 2 == 0
                if aimed:
                    # Right after the PDS shows the post: most often while the proxy holds the answer.
                    window = watch.unrecorded(workers)
                    if not window:
                        continue
                    victim = rng.choice(window)[1]
                else:
                    time.sleep(rng.uniform(0.0, 0.8))  # a random kill moment, not a wait for a condition
                    window = []
                    held = watch.held(watch.ledger(), workers)
                    if not held:
                        continue
                    victim = rng.choice(held)[1]
                victim_pid = workers[victim].pid
                workers[victim].kill()
                kills += 1
                aimed_kills += aimed
                # Dead now: what it held stays claimed by it, as it was, until its lease runs out.
                still_held = {
                    row.id for row in watch.ledger() if row.state == "claimed" and row.owner_pid == victim_pid
                }
                caught.update(row.id for row, _n in window if row.id in still_held)
                _expire_leases_of(data_dir, victim_pid)
                workers[victim] = Worker(env, tmp_path / f"w{victim}-{kills}.log")
        finally:
            for worker in workers:
                worker.stop()
        burst_seconds = time.monotonic() - burst_began
        rows = _ledger(data_dir, organization)
        records = {did: _records(pds, did) for did in dids}
        unheard = list(proxy.unheard)

    assert kills == KILLS
    assert len(rows) == TARGETS
    by_text: dict[tuple[str, str], list[str]] = {}
    for did, listed in records.items():
        for record in listed:
            by_text.setdefault((did, str(record["value"]["text"])), []).append(str(record["uri"]))
    for row in rows:
        uris = by_text.get((row.did, row.text), [])
        assert len(uris) == 1, f"target {row.id} ({row.text!r}) is on @{row.handle} {len(uris)} times: {uris}"
        assert row.remote_id == uris[0], f"target {row.id}: the ledger has {row.remote_id}, the PDS {uris[0]}"
        uri = parse_at_uri(uris[0])
        assert uri is not None
        assert row.url == f"https://bsky.app/profile/{row.handle}/post/{uri.rkey}"
    assert sum(len(listed) for listed in records.values()) == TARGETS  # nothing else was published

    attempts: dict[int, list[str]] = {}
    for target_id, outcome in _query(
        data_dir,
        "SELECT a.target_id, a.outcome FROM publishing_deliveryattempt a "
        "JOIN publishing_deliverytarget t ON t.id = a.target_id WHERE t.organization_id = ? ORDER BY a.id",
        organization,
    ):
        attempts.setdefault(target_id, []).append(outcome)
    outcomes = Counter(outcome for history in attempts.values() for outcome in history)
    in_flight = {row.id for row in rows if row.text in unheard}
    print(
        f"bluesky: {TARGETS} targets on {ACCOUNTS} accounts, {kills} kills ({aimed_kills} aimed); "
        f"{len(in_flight)} createRecord calls were in flight when their worker died, {len(caught)} targets "
        f"were on the network and not in the ledger when theirs died; attempts {dict(outcomes)}; "
        f"burst {burst_seconds:.0f} s, test {time.monotonic() - began:.0f} s"
    )
    # Kills landed after the PDS created a post and before the worker heard of it, let alone recorded it
    # (in flight), and after it heard and before it recorded (caught by an aimed kill) ...
    assert len(in_flight) == len(set(unheard)) >= 1
    assert caught
    # ... and the next worker found each of those posts with find_own_post instead of sending it again
    # (a "sent" here would mean the lookup missed it and only the record key's uniqueness saved us).
    for target_id in caught | in_flight:
        assert attempts.get(target_id, [])[-1:] == ["reconciled"], (target_id, attempts.get(target_id))
        assert "sent" not in attempts[target_id], (target_id, attempts[target_id])
