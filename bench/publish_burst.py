"""A burst of posts due at one moment: how late each goes out, with real worker processes.

Stages N targets (default 10,000) across C sandbox channels (default 300), all due at the same
instant a little after the workers have started, with `tertulia manage publishing_burst`; starts
W `tertulia worker` processes (each with TERTULIA_PUBLISH_THREADS dispatcher threads); waits until
every target is sent; then reads the ledger and the sandbox network:

- lateness of each target: the network's time of the post minus the due time (p50, p99, max), and
  how many went out within 60 s;
- each channel's rate limit: the most posts any channel made in one of the sandbox's limit windows,
  against the limit (the sandbox refuses past it; deferrals are counted);
- that every target is on the network exactly once.

Usage (a throwaway data directory; PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set —
use a fresh database):

    python bench/publish_burst.py [--targets 10000] [--channels 300] [--workers 1]
    DATABASE_URL=postgresql://... REDIS_URL=redis://... python bench/publish_burst.py --workers 2

Prints one line per figure. No figure here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def tertulia(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tertulia", *args], env=env, capture_output=True, text=True, check=True
    )


def query(env: dict[str, str], sql: str, *params: object) -> list[tuple[Any, ...]]:
    if env.get("DATABASE_URL"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], connect_timeout=10) as connection:
            return list(connection.execute(sql, params).fetchall())
    path = Path(env["TERTULIA_DATA_DIR"]) / "tertulia.sqlite3"
    with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
        return list(db.execute(sql.replace("%s", "?"), params).fetchall())


def moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=300)
    parser.add_argument(
        "--workers", type=int, default=0, help="Worker processes (default: 1 embedded, 2 scale-out)."
    )
    parser.add_argument("--threads", type=int, default=2, help="Dispatcher threads per worker.")
    parser.add_argument("--lead", type=float, default=25.0, help="Seconds from staging to the due time.")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()

    scale_out = bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    workers = args.workers or (2 if scale_out else 1)
    data_dir = Path(os.environ.get("TERTULIA_DATA_DIR") or tempfile.mkdtemp(prefix="tertulia-bench-publish-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("TERTULIA_")}
    env.update(
        TERTULIA_DATA_DIR=str(data_dir),
        TERTULIA_PUBLISH_THREADS=str(args.threads),
        TERTULIA_INBOX_POLL_SECONDS="3600",  # the burst's channels have nothing to read
    )
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(
        f"profile: {'PostgreSQL + Redis' if scale_out else 'embedded (SQLite)'}, {workers} worker processes "
        f"x {args.threads} dispatcher threads"
    )
    tertulia("migrate", env=env)
    started = time.monotonic()
    staged = json.loads(
        tertulia(
            "manage",
            "publishing_burst",
            "--name",
            f"bench{int(time.time())}",
            "--channels",
            str(args.channels),
            "--targets",
            str(args.targets),
            "--in",
            str(args.lead),
            env=env,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    print(
        f"staged: {staged['targets']} targets on {staged['channels']} channels "
        f"in {time.monotonic() - started:.1f} s"
    )
    organization = staged["organization"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tertulia", "worker", "--threads", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(data_dir / f"worker{n}.log").open("wb"),
        )
        for n in range(workers)
    ]
    try:
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            ((sent,),) = query(
                env,
                "SELECT COUNT(*) FROM publishing_deliverytarget "
                "WHERE organization_id = %s AND state = 'sent'",
                organization,
            )
            if sent == staged["targets"]:
                break
            time.sleep(1.0)
        else:
            print(f"NOT DONE within {args.timeout:.0f} s: {sent} of {staged['targets']} sent")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)

    rows = query(
        env,
        "SELECT t.due_at, t.sent_at, t.remote_id, c.handle FROM publishing_deliverytarget t "
        "JOIN core_channel c ON c.id = t.channel_id WHERE t.organization_id = %s AND t.state = 'sent'",
        organization,
    )
    lateness = [(moment(sent_at) - moment(due)).total_seconds() for due, sent_at, _r, _h in rows]
    first = min(moment(sent_at) for _d, sent_at, _r, _h in rows)
    last = max(moment(sent_at) for _d, sent_at, _r, _h in rows)
    print(f"sent: {len(rows)} of {staged['targets']}")
    print(f"lateness p50: {statistics.median(lateness):.2f} s")
    print(f"lateness p99: {percentile(lateness, 0.99):.2f} s")
    print(f"lateness max: {max(lateness):.2f} s")
    print(f"within 60 s of due time: {sum(1 for x in lateness if x <= 60)} of {len(rows)}")
    print(
        f"throughput: {len(rows) / max((last - first).total_seconds(), 0.001):.0f} posts/s "
        f"(first to last post, {(last - first).total_seconds():.1f} s)"
    )

    posts = query(
        env,
        "SELECT a.handle, p.created_at, a.write_limit, a.write_window_seconds FROM sandbox_sandboxpost p "
        "JOIN sandbox_sandboxaccount a ON a.id = p.author_id "
        "WHERE a.handle IN (SELECT handle FROM core_channel WHERE organization_id = %s)",
        organization,
    )
    per_window: Counter[tuple[str, int]] = Counter()
    limits: dict[str, tuple[int, int]] = {}
    for handle, created, limit, window in posts:
        limits[handle] = (limit, window)
        per_window[(handle, int(moment(created).timestamp()) // window)] += 1
    worst: dict[str, int] = defaultdict(int)
    for (handle, _window), count in per_window.items():
        worst[handle] = max(worst[handle], count)
    over = [h for h, count in worst.items() if count > limits[h][0]]
    limit, window = next(iter(limits.values()))
    print(
        f"rate limit: {limit} posts per {window} s per channel; "
        f"busiest channel window: {max(worst.values())} posts; "
        f"channels over their limit: {len(over)}"
    )
    deferrals = query(
        env,
        "SELECT COUNT(*) FROM publishing_deliveryattempt a "
        "JOIN publishing_deliverytarget t ON t.id = a.target_id "
        "WHERE t.organization_id = %s AND a.outcome = 'rate_limited'",
        organization,
    )[0][0]
    print(f"rate-limit deferrals: {deferrals}")
    print(
        f"posts on the network: {len(posts)} "
        f"(targets sent: {len(rows)}; duplicates: {len(posts) - len(rows)})"
    )
    print(f"data directory: {data_dir}")


if __name__ == "__main__":
    main()
