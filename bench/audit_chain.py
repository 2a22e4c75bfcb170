"""The audit trail's hash chain: what an append costs, with one writer and with many, and how long
checking a chain of a million entries takes.

1. One writer appends N entries (`record`, one transaction each, as an action does), against a plain
   INSERT of the same row without the chain (what the lock, the hash and the head row cost).
2. W writer processes append N entries between them to the same organization's chain at once (the
   head row's lock, or SQLite's write lock, puts them in line); the chain is then checked whole.
3. A chain of M entries (default 1,000,000) is built in batches (`record_many`) and walked by
   `tertulia audit verify`'s code (`tertulia.core.actions.audit.verify`).

Usage (a throwaway data directory is created unless TERTULIA_DATA_DIR is set; PostgreSQL when
DATABASE_URL is set — use a fresh database):

    python bench/audit_chain.py [--appends 5000] [--writers 4] [--chain 1000000]
    DATABASE_URL=postgresql://... python bench/audit_chain.py

Prints one line per figure. Nothing here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def setup(migrate: bool) -> None:
    sys.path.insert(0, str(SRC))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")
    os.environ.setdefault("TERTULIA_DATA_DIR", tempfile.mkdtemp(prefix="tertulia-bench-"))
    os.environ.setdefault("TERTULIA_TASKS_IMMEDIATE", "true")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


CHANGES = {
    "state": ["pending", "approved"],
    "step": [None, "Marca"],
    "comment": [None, "Adelante, sin cambios."],
}


def actor():  # type: ignore[no-untyped-def]  # imports Django lazily, after setup
    from tertulia.core.actions.context import Actor

    return Actor(
        user=None,
        via="web",
        ip_address="2001:db8::7",
        user_agent="Mozilla/5.0 (bench)",
        label_override="ana@example.com",
    )


def single_writer(organization_id: int, n: int) -> None:
    from django.utils import timezone

    from tertulia.core import audit_chain
    from tertulia.core.actions.audit import record
    from tertulia.core.models import AuditEntry, Organization

    org = Organization.objects.get(pk=organization_id)
    who = actor()
    took: list[float] = []
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        record(who, org, "post.approved", org, CHANGES, "publishing.post")
        took.append(time.perf_counter() - t0)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"one writer, chained: {n:,} appends in {total:.2f} s = {n / total:,.0f}/s; "
        f"per append p50 {percentile(took, 0.5) * 1000:.2f} ms, p99 {percentile(took, 0.99) * 1000:.2f} ms; "
        f"CPU {cpu / n * 1000:.2f} ms per append"
    )
    # The same row without the chain: one INSERT in its own transaction.
    plain = Organization.objects.create(name="Plain", slug="plain-bench")
    took = []
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(1, n + 1):
        t0 = time.perf_counter()
        entry = AuditEntry(
            organization=plain,
            actor_label="ana@example.com",
            action="post.approved",
            object_type="publishing.post",
            object_id="1",
            object_repr="Plain",
            changes=CHANGES,
            via="web",
            ip_address="2001:db8::7",
            user_agent="Mozilla/5.0 (bench)",
            sequence=i,
            previous_hash=audit_chain.GENESIS,
            hash=audit_chain.GENESIS,
            created_at=timezone.now(),
        )
        AuditEntry.objects.bulk_create([entry])
        took.append(time.perf_counter() - t0)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"one writer, plain INSERT (no chain): {n:,} in {total:.2f} s = {n / total:,.0f}/s; "
        f"p50 {percentile(took, 0.5) * 1000:.2f} ms, p99 {percentile(took, 0.99) * 1000:.2f} ms; "
        f"CPU {cpu / n * 1000:.2f} ms per insert"
    )


def child(organization_id: int, n: int, start_at: float) -> None:
    """One writer process of the concurrent run: wait for the common start, append n, print timings."""
    setup(migrate=False)
    from tertulia.core.actions.audit import record
    from tertulia.core.models import Organization

    org = Organization.objects.get(pk=organization_id)
    who = actor()
    record(who, None, "bench.warm_up", None, {})  # connect before the clock
    while time.time() < start_at:
        time.sleep(0.001)
    took = []
    for _ in range(n):
        t0 = time.perf_counter()
        record(who, org, "post.approved", org, CHANGES, "publishing.post")
        took.append(time.perf_counter() - t0)
    print(" ".join(f"{t:.6f}" for t in took))


def concurrent_writers(organization_id: int, n: int, writers: int) -> None:
    from tertulia.core.actions.audit import verify
    from tertulia.core.models import Organization

    org = Organization.objects.get(pk=organization_id)
    each = n // writers
    start_at = time.time() + 3.0
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--child", str(organization_id), str(each), str(start_at)],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for _ in range(writers)
    ]
    outputs = [p.communicate()[0] for p in processes]
    if any(p.returncode for p in processes):
        raise SystemExit("a writer failed")
    total = time.time() - start_at
    took = [float(t) for out in outputs for t in out.split()]
    (report,) = verify(org)
    print(
        f"{writers} writer processes, one chain: {len(took):,} appends in {total:.2f} s = "
        f"{len(took) / total:,.0f}/s; per append p50 {percentile(took, 0.5) * 1000:.2f} ms, "
        f"p99 {percentile(took, 0.99) * 1000:.2f} ms; chain {'OK' if report.ok else 'BROKEN'} "
        f"({report.entries:,} entries)"
    )


def big_chain(m: int) -> None:
    from django.db import connection

    from tertulia.core.actions.audit import entry_for, record_many, verify
    from tertulia.core.models import Organization

    org = Organization.objects.create(name="Million", slug="million-bench")
    who = actor()
    batch = 5_000
    started = time.perf_counter()
    written = 0
    while written < m:
        size = min(batch, m - written)
        record_many(
            [
                entry_for(
                    who, org, "post.approved", org, {**CHANGES, "n": [None, written + i]}, "publishing.post"
                )
                for i in range(size)
            ]
        )
        written += size
    built = time.perf_counter() - started
    print(f"built a chain of {m:,} entries in batches of {batch:,}: {built:.1f} s = {m / built:,.0f}/s")
    started, cpu = time.perf_counter(), time.process_time()
    (report,) = verify(org)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"verified {report.entries:,} entries in {took:.1f} s = {report.entries / took:,.0f} entries/s "
        f"({'OK' if report.ok else 'BROKEN'}); this process's CPU time {cpu:.1f} s "
        f"({report.entries / cpu:,.0f} entries per CPU second)"
    )
    if connection.vendor == "sqlite":
        size = Path(connection.settings_dict["NAME"]).stat().st_size
        print(
            f"database file: {size / 1e6:,.0f} MB with {m:,} entries (about {size / m:,.0f} bytes per entry)"
        )
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('core_auditentry')")
            size = cursor.fetchone()[0]
        print(f"core_auditentry with indexes: {size / 1e6:,.0f} MB (about {size / m:,.0f} bytes per entry)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appends", type=int, default=5_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--chain", type=int, default=1_000_000)
    args = parser.parse_args()
    setup(migrate=True)
    from django.db import connection

    from tertulia.core.models import Organization

    machine = f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores"
    print(f"{machine}; database: {connection.vendor}; load average {os.getloadavg()[0]:.1f}")
    single = Organization.objects.create(name="Single", slug="single-bench")
    single_writer(single.pk, args.appends)
    many = Organization.objects.create(name="Many", slug="many-bench")
    concurrent_writers(many.pk, args.appends, args.writers)
    if args.chain:
        big_chain(args.chain)


if __name__ == "__main__":
    main()
