"""Many writers appending to the same chains at the same moment: every number taken once, no fork.

Real threads with their own database connections (`transaction=True`), released together by a
barrier. Without the head row's lock two writers would read the same head and take the same number
(the unique index would refuse one) or, worse, chain two entries to the same previous hash.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from tertulia.core.actions.audit import entry_for, iter_chain, record, record_many, verify
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditChain, Organization

WRITERS = 8
EACH = 30


def race(work: object) -> list[BaseException]:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            work(index)  # type: ignore[operator]  # a callable
        except BaseException as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_take_each_number_once():
    if connection.vendor == "sqlite":
        # Django's SQLite test database is in memory with a shared cache, whose table locks fail at
        # once instead of waiting; the real, file-based database serializes writers with IMMEDIATE
        # transactions (bench/audit_chain.py races processes on it).
        pytest.skip("needs a database whose writers wait for each other (PostgreSQL)")
    # No head row yet for either organization: the first appends also race to create it.
    one = Organization.objects.create(name="Uno", slug="uno")
    two = Organization.objects.create(name="Dos", slug="dos")

    def work(index: int) -> None:
        for step in range(EACH):
            with transaction.atomic():
                record(
                    Actor.system(f"writer {index}"), one, "test.race", None, {"step": [index, step]}, "test"
                )
                if step % 3 == 0:
                    # Two chains in one transaction, in both orders: heads are locked in a fixed order.
                    pair = [two, None] if index % 2 else [None, two]
                    record_many(
                        [entry_for(Actor.system(f"writer {index}"), org, "test.race") for org in pair]
                    )

    errors = race(work)
    assert errors == []
    numbers = [entry["sequence"] for entry in iter_chain(one.pk)]
    assert numbers == list(range(1, WRITERS * EACH + 1))
    expected_two = WRITERS * len(range(0, EACH, 3))
    assert AuditChain.objects.get(organization=two).length == expected_two
    assert AuditChain.objects.get(key="installation").length == expected_two
    reports = verify()
    assert [r.entries for r in reports if r.organization in (one.pk, two.pk, None)] == [
        expected_two,
        WRITERS * EACH,
        expected_two,
    ]
    assert all(r.ok for r in reports), [r.broken for r in reports]
