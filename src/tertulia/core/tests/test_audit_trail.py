"""The audit trail in the database: chained appends, append-only triggers, and `verify` finding
each kind of tampering at the right place. Runs on SQLite and on PostgreSQL (CI's second stage)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tertulia.core import audit_chain
from tertulia.core.actions.audit import (
    delete_organization,
    entry_for,
    iter_chain,
    record,
    record_many,
    verify,
)
from tertulia.core.actions.context import Actor
from tertulia.core.audit_db import drop_triggers, install_triggers, missing_triggers
from tertulia.core.models import AuditChain, AuditEntry, Organization, User
from tertulia.core.tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>\u200b\u202egnp.exe 😀 ' \" \\ \n\t"


def actor(user: User | None = None, ip: str | None = "2001:DB8::1") -> Actor:
    return Actor(user=user, via="web", ip_address=ip, user_agent="Mozilla/5.0 " + HOSTILE)


def fill(org: Organization | None, n: int, person: User | None = None) -> list[AuditEntry]:
    return [
        record(actor(person), org, "test.step", None, {"step": [i - 1, i], "text": HOSTILE}, "test.thing")
        for i in range(1, n + 1)
    ]


def report_for(org: Organization | None) -> audit_chain.ChainReport:
    (report,) = verify(org)
    return report


@contextmanager
def tampering() -> Iterator[Any]:
    """An attacker with the database's owner rights: triggers dropped, raw SQL, triggers put back."""
    drop_triggers()
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        install_triggers()


def test_entries_are_numbered_and_chained_per_organization():
    org, other = make_org(), make_org()
    before = AuditChain.objects.get(organization=org).length  # creating it was audited
    entries = fill(org, 3)
    fill(other, 2)
    fill(None, 2)
    assert [e.sequence for e in entries] == [before + 1, before + 2, before + 3]
    stored = list(iter_chain(org.pk))
    assert [e["sequence"] for e in stored] == list(range(1, before + 4))
    assert stored[0]["previous_hash"] == audit_chain.GENESIS
    for earlier, later in itertools.pairwise(stored):
        assert later["previous_hash"] == earlier["hash"]
        assert audit_chain.entry_hash(later) == later["hash"]  # what the database gave back
    head = AuditChain.objects.get(organization=org)
    assert (head.length, head.head_hash) == (before + 3, stored[-1]["hash"])
    assert AuditChain.objects.get(key="installation").length == 2
    assert all(r.ok for r in verify())


def test_values_come_back_from_the_database_as_they_were_hashed():
    org = make_org()
    person = make_user(display_name=HOSTILE)
    odd = {
        "floats": [1.0, 0.1, 1e-7, 1e100, -0.0],
        "ints": [2**62, -(2**53) - 1],
        "nested": {"é": {"b": [None, True, ""]}, "1": "x"},
        "text": HOSTILE * 50,
    }
    for ip in ("2001:DB8::1", "::ffff:1.2.3.4", "::1.2.3.4", "127.0.0.1", None):
        record(actor(person, ip), org, "test.odd", person, odd)
    assert report_for(org).ok


def test_record_many_appends_to_several_chains_in_one_go():
    one, two = make_org(), make_org()
    entries = record_many(
        [
            entry_for(actor(), org, "test.batch", None, {"i": [None, i]}, "test.thing")
            for i, org in enumerate([one, two, one, None, two, one])
        ]
    )
    assert all(e.pk for e in entries)
    assert all(r.ok for r in verify())
    ones = [e.sequence for e in entries if e.organization_id == one.pk]
    assert ones == sorted(ones) and len(set(ones)) == 3


def test_the_models_refuse_to_change_or_delete_an_entry():
    entry = fill(make_org(), 1)[0]
    entry.action = "changed"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry(action="x", actor_label="x", via="web").save()  # not through record()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_auditentry SET action = 'member.remove'",
        "UPDATE core_auditentry SET changes = '{}'",
        "UPDATE core_auditentry SET created_at = created_at",  # even a no-op write
        "UPDATE core_auditentry SET hash = previous_hash",
        "UPDATE core_auditentry SET organization_id = NULL",
        "UPDATE core_auditentry SET actor_id = NULL, actor_label = 'nobody'",
        "DELETE FROM core_auditentry",
        "UPDATE core_auditchain SET length = 0",
        "UPDATE core_auditchain SET head_hash = 'x'",
        "DELETE FROM core_auditchain",
    ],
)
def test_the_database_refuses_raw_changes(sql):
    org = make_org()
    fill(org, 2, make_user())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    assert report_for(org).ok


@pytest.mark.django_db(transaction=True)  # committed rows: no pending foreign-key checks to trip first
def test_the_database_refuses_truncation():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (a DELETE without WHERE is refused above)")
    fill(make_org(), 1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute("TRUNCATE core_auditentry CASCADE")


def test_deleting_a_person_keeps_their_entries_and_the_chain():
    org, person = make_org(), make_user(email="leaving@example.com")
    fill(org, 2, person)
    person.delete()  # the one change allowed: actor becomes NULL
    entries = AuditEntry.objects.filter(organization=org, action="test.step")
    assert [(e.actor_id, e.actor_label) for e in entries] == [(None, "leaving@example.com")] * 2
    assert report_for(org).ok


def test_the_triggers_are_in_place_after_migrating():
    assert missing_triggers() == []
    drop_triggers()
    try:
        assert len(missing_triggers()) >= 4
    finally:
        install_triggers()
    assert missing_triggers() == []


def test_an_organization_is_deleted_only_with_its_whole_trail_and_leaves_a_trace():
    org = make_org()
    fill(org, 3)
    with pytest.raises(DatabaseError), transaction.atomic():
        Organization.objects.filter(pk=org.pk).delete()  # no permit: the trail refuses
    assert Organization.objects.filter(pk=org.pk).exists()
    head, org_id = AuditChain.objects.get(organization=org), org.pk
    summary = delete_organization(Actor.cli(), org)
    assert summary == {"entries": head.length, "head_hash": head.head_hash}
    assert not AuditEntry.objects.filter(organization_id=org_id).exists()
    assert not Organization.objects.filter(pk=org_id).exists()
    trace = AuditEntry.objects.get(organization=None, action="organization.delete")
    assert trace.changes["audit_entries"] == [head.length, None]
    assert trace.changes["audit_head_hash"] == [head.head_hash, None]
    assert all(r.ok for r in verify())
    # The permit ended with the deletion.
    other = make_org()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(organization=other).delete()


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_trail_too():
    fill(make_org(), 2)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists() and not AuditChain.objects.exists()
    fill(make_org(), 1)  # and the chains start again (the test's teardown flushes once more)
    assert all(r.ok for r in verify())


# --- verify finds each kind of tampering where it is --------------------------------------------


def entry_at(org: Organization, sequence: int) -> AuditEntry:
    return AuditEntry.objects.get(organization=org, sequence=sequence)


def broken_at(org: Organization) -> audit_chain.Break:
    report = report_for(org)
    assert report.broken is not None, "the tampering went unnoticed"
    return report.broken


@pytest.fixture
def chained() -> Organization:
    org = make_org()
    fill(org, 8, make_user())
    assert report_for(org).ok
    return org


def test_verify_reports_edited_content(chained):
    target = entry_at(chained, 5)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET changes = %s WHERE id = %s", ['{"step": [0, 99]}', target.pk]
        )
    broken = broken_at(chained)
    assert (broken.kind, broken.sequence, broken.entry_id) == ("edited", 5, target.pk)
    assert broken.expected == target.hash
    assert broken.found != target.hash
    assert report_for(chained).entries == 4  # the four before it are intact


def test_verify_reports_a_deleted_entry_as_a_gap(chained):
    target, after = entry_at(chained, 4), entry_at(chained, 5)
    with tampering() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [target.pk])
    broken = broken_at(chained)
    assert (broken.kind, broken.sequence, broken.entry_id) == ("deleted", 4, after.pk)


def test_verify_reports_entries_deleted_at_the_end(chained):
    last = AuditChain.objects.get(organization=chained).length
    with tampering() as cursor:
        cursor.execute(
            "DELETE FROM core_auditentry WHERE organization_id = %s AND sequence >= %s",
            [chained.pk, last - 1],
        )
    broken = broken_at(chained)
    assert (broken.kind, broken.sequence) == ("deleted", last - 1)


def test_verify_reports_reordered_entries(chained):
    third, fourth = entry_at(chained, 3), entry_at(chained, 4)
    with tampering() as cursor:
        cursor.execute("UPDATE core_auditentry SET sequence = 999999 WHERE id = %s", [third.pk])
        cursor.execute("UPDATE core_auditentry SET sequence = 3 WHERE id = %s", [fourth.pk])
        cursor.execute("UPDATE core_auditentry SET sequence = 4 WHERE id = %s", [third.pk])
    broken = broken_at(chained)
    assert (broken.kind, broken.sequence, broken.entry_id) == ("reordered", 3, fourth.pk)
    assert "#4" in broken.expected


def test_verify_reports_a_forged_hash(chained):
    target = entry_at(chained, 6)
    forged = dict(next(e for e in iter_chain(chained.pk) if e["sequence"] == 6), action="member.remove")
    forged_hash = audit_chain.entry_hash(forged)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET action = %s, hash = %s WHERE id = %s",
            ["member.remove", forged_hash, target.pk],
        )
    broken = broken_at(chained)
    assert (broken.kind, broken.sequence, broken.entry_id) == ("forged", 6, target.pk)
    assert broken.expected == target.hash  # what entry 7 was chained to
    assert broken.found == forged_hash


def test_verify_reports_a_forged_last_entry_through_the_head(chained):
    head = AuditChain.objects.get(organization=chained)
    last = next(e for e in iter_chain(chained.pk) if e["sequence"] == head.length)
    forged = dict(last, actor="nobody@example.com")
    with tampering() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET actor_label = %s, hash = %s WHERE id = %s",
            ["nobody@example.com", audit_chain.entry_hash(forged), last["id"]],
        )
    broken = broken_at(chained)
    assert (broken.kind, broken.sequence, broken.entry_id) == ("forged", head.length, last["id"])


def test_one_broken_chain_does_not_hide_or_break_the_others(chained):
    other = make_org()
    fill(other, 3)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE core_auditentry SET object_repr = 'x' WHERE id = %s", [entry_at(chained, 2).pk]
        )
    reports = {r.organization: r for r in verify()}
    assert not reports[chained.pk].ok and reports[other.pk].ok


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_entries_into_their_chains_in_order():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0005_governance_grants")])
    org = Organization.objects.create(name="Antes", slug="antes")
    with connection.cursor() as cursor:
        for i, organization_id in enumerate([org.pk, None, org.pk, org.pk, None]):
            cursor.execute(
                "INSERT INTO core_auditentry (organization_id, actor_label, action, object_type, object_id, "
                "object_repr, changes, via, ip_address, user_agent, created_at) "
                "VALUES (%s, %s, 'brand.update', 'core.brand', %s, %s, %s, 'web', '::1', '', %s)",
                [
                    organization_id,
                    HOSTILE,
                    str(i),
                    HOSTILE,
                    '{"n": [1.0, 2]}',
                    f"2026-01-0{i + 1} 10:00:00.12345",
                ],
            )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    sealed = [(e["organization"], e["sequence"], e["object_id"]) for e in iter_chain(org.pk)]
    assert sealed == [(org.pk, 1, "0"), (org.pk, 2, "2"), (org.pk, 3, "3")]
    assert [e["object_id"] for e in iter_chain(None)] == ["1", "4"]
    assert all(r.ok for r in verify())
    assert missing_triggers() == []
    record(actor(), org, "test.after", None)  # and the chain goes on from there
    assert AuditChain.objects.get(organization=org).length == 4
    assert all(r.ok for r in verify())
