"""How fast the sandbox network produces and serves traffic.

The demo, the tests and later load benchmarks (inbox ingest, delivery) all run on the
sandbox, so its own costs must be known: how many simulated messages per second it can
write, and how long reading a page of inbound items takes once an account has many.

Usage (a throwaway data directory is created unless TERTULIA_DATA_DIR is set):

    python bench/sandbox_traffic.py [--messages 3000] [--pages 200]
    DATABASE_URL=postgresql://... python bench/sandbox_traffic.py

Prints one line per figure. No figure here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=3000, help="messages to generate")
    parser.add_argument("--pages", type=int, default=200, help="inbound pages to read")
    args = parser.parse_args()

    os.environ.setdefault("TERTULIA_DATA_DIR", tempfile.mkdtemp(prefix="tertulia-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from tertulia.connectors.base import ChannelAccount
    from tertulia.connectors.sandbox.connector import SandboxConnector
    from tertulia.connectors.sandbox.simulator import control

    handles = ["benchbrand"]
    SandboxConnector.prepare_account("benchbrand", "Bench brand")
    started = time.perf_counter()
    control.ensure_simulation(handles, seed=1, rate_per_minute=0)
    setup_s = time.perf_counter() - started

    started = time.perf_counter()
    generated = control.generate_burst(handles, args.messages, seed=1)
    write_s = time.perf_counter() - started

    connector = SandboxConnector(ChannelAccount(handle="benchbrand"))
    newest_ms, after_ms = [], []
    cursor = None
    for _ in range(args.pages):
        t = time.perf_counter()
        page = connector.fetch_inbound(None, limit=50)
        newest_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        page = connector.fetch_inbound(cursor or "0", limit=50)
        after_ms.append((time.perf_counter() - t) * 1000)
        cursor = page.cursor if page.items else None
    vendor = connection.vendor

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {vendor}"
    )
    print(f"community setup (accounts + the blogger's 10,000 followers): {setup_s:.2f} s")
    print(f"generated {generated} messages in {write_s:.2f} s: {generated / write_s:.0f} messages/s")
    print(f"fetch newest 50 (of {generated}): p50 {p(newest_ms, 50):.2f} ms, p95 {p(newest_ms, 95):.2f} ms")
    print(f"fetch 50 after a cursor: p50 {p(after_ms, 50):.2f} ms, p95 {p(after_ms, 95):.2f} ms")
    # The connector's read budget (900 per 15 minutes) applies to real use, not here: each
    # fetch spends one read, so more pages than the budget would measure the limiter.
    if args.pages * 2 > 900:
        print(
            "note: more than 900 reads; later reads measured the rate limiter's refusal path", file=sys.stderr
        )


if __name__ == "__main__":
    main()
