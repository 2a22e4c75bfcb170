"""The audit trail is append-only in the database itself: triggers refuse UPDATE and DELETE.

Whatever runs SQL on the database — the ORM, a raw query, a console — cannot change or remove an
audit entry while these triggers are there. Two exceptions, both narrow:

- `actor` may be set to NULL (and nothing else changed): that is what deleting a person does to
  their entries (`on_delete=SET_NULL`); the entries keep the person's label, which the hash covers.
- Entries may be deleted inside `erasure(...)`: a whole organization's trail when the organization
  itself is deleted (`tertulia delete-organization`), or every table at once (`tertulia manage
  flush`, which the test suite also uses between tests).

The permit is transaction-local: a PostgreSQL setting (`tertulia.audit_erasure`, set with
`set_config(..., true)`) or, on SQLite, a function the trigger calls that only Tertulia's own
connections define (any other SQLite client gets "no such function" and the delete fails).

The chain heads (`core_auditchain`) get the same protection against deletion, and an update may
only make a chain longer.

None of this stops someone who owns the database and drops the triggers; the hash chain is what
makes such a change visible (`tertulia audit verify`, docs/audit.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

ENTRY_TABLE = "core_auditentry"
CHAIN_TABLE = "core_auditchain"
SETTING = "tertulia.audit_erasure"
SQLITE_FUNCTION = "tertulia_audit_erasable"
EVERYTHING = "*"

SQLITE_TRIGGERS = (
    "core_auditentry_no_update",
    "core_auditentry_no_delete",
    "core_auditchain_no_update",
    "core_auditchain_no_delete",
)
PG_TRIGGERS = {
    "core_auditentry_append_only": ENTRY_TABLE,
    "core_auditentry_no_truncate": ENTRY_TABLE,
    "core_auditchain_guard": CHAIN_TABLE,
    "core_auditchain_no_truncate": CHAIN_TABLE,
}

REFUSED = "the audit trail is append-only"


def permit_value(organization_id: int | None) -> str:
    return EVERYTHING if organization_id is None else f"organization:{organization_id}"


# --- SQLite --------------------------------------------------------------------------------------


@receiver(connection_created)
def _define_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Tertulia's SQLite connections define the function the delete trigger asks."""
    if connection.vendor != "sqlite":
        return
    permits: set[str] = connection.__dict__.setdefault("audit_erasure_permits", set())

    def erasable(organization_id: int | None) -> int:
        if EVERYTHING in permits:
            return 1
        return int(organization_id is not None and f"organization:{organization_id}" in permits)

    connection.connection.create_function(SQLITE_FUNCTION, 1, erasable)


def _sqlite_sql(entry_columns: list[str]) -> list[str]:
    unchanged = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in entry_columns if c != "actor_id")
    return [
        f"""CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON {ENTRY_TABLE}
        WHEN NOT (NEW.actor_id IS NULL AND {unchanged})
        BEGIN SELECT RAISE(ABORT, '{REFUSED}: audit entries cannot be changed'); END""",
        f"""CREATE TRIGGER core_auditentry_no_delete BEFORE DELETE ON {ENTRY_TABLE}
        WHEN NOT {SQLITE_FUNCTION}(OLD.organization_id)
        BEGIN SELECT RAISE(ABORT, '{REFUSED}: audit entries cannot be deleted'); END""",
        f"""CREATE TRIGGER core_auditchain_no_update BEFORE UPDATE ON {CHAIN_TABLE}
        WHEN NOT (NEW.id IS OLD.id AND NEW."key" IS OLD."key" AND NEW.organization_id IS OLD.organization_id
                  AND NEW.length > OLD.length)
        BEGIN SELECT RAISE(ABORT, '{REFUSED}: a chain can only grow'); END""",
        f"""CREATE TRIGGER core_auditchain_no_delete BEFORE DELETE ON {CHAIN_TABLE}
        WHEN NOT {SQLITE_FUNCTION}(OLD.organization_id)
        BEGIN SELECT RAISE(ABORT, '{REFUSED}: a chain cannot be deleted'); END""",
    ]


# --- PostgreSQL ----------------------------------------------------------------------------------

_PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION tertulia_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    permit text := coalesce(current_setting('{SETTING}', true), '');
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.actor_id IS NULL AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{REFUSED}: audit entries cannot be changed (entry %)', OLD.id;
    ELSIF TG_OP = 'DELETE' THEN
        IF permit = '{EVERYTHING}' OR (OLD.organization_id IS NOT NULL
                                AND permit = 'organization:' || OLD.organization_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{REFUSED}: audit entries cannot be deleted (entry %)', OLD.id;
    ELSE
        IF permit = '{EVERYTHING}' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{REFUSED}: the audit trail cannot be truncated';
    END IF;
END
$body$;
CREATE OR REPLACE FUNCTION tertulia_audit_chain_guard() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    permit text := coalesce(current_setting('{SETTING}', true), '');
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW."key" = OLD."key"
           AND NEW.organization_id IS NOT DISTINCT FROM OLD.organization_id
           AND NEW.length > OLD.length THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{REFUSED}: a chain can only grow';
    ELSIF TG_OP = 'DELETE' THEN
        IF permit = '{EVERYTHING}' OR (OLD.organization_id IS NOT NULL
                                AND permit = 'organization:' || OLD.organization_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '{REFUSED}: a chain cannot be deleted';
    ELSE
        IF permit = '{EVERYTHING}' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{REFUSED}: the chains cannot be truncated';
    END IF;
END
$body$;
"""

_PG_TRIGGERS = f"""
CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON {ENTRY_TABLE}
    FOR EACH ROW EXECUTE FUNCTION tertulia_audit_append_only();
CREATE TRIGGER core_auditentry_no_truncate BEFORE TRUNCATE ON {ENTRY_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION tertulia_audit_append_only();
CREATE TRIGGER core_auditchain_guard BEFORE UPDATE OR DELETE ON {CHAIN_TABLE}
    FOR EACH ROW EXECUTE FUNCTION tertulia_audit_chain_guard();
CREATE TRIGGER core_auditchain_no_truncate BEFORE TRUNCATE ON {CHAIN_TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION tertulia_audit_chain_guard();
"""


# --- installing, checking, removing --------------------------------------------------------------


def _columns(connection: BaseDatabaseWrapper, table: str) -> list[str]:
    with connection.cursor() as cursor:
        return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def drop_triggers(connection: BaseDatabaseWrapper | None = None) -> None:
    """Remove the triggers (what an attacker with the database's owner rights can do; tests use it)."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name, table in PG_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        elif connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def install_triggers(connection: BaseDatabaseWrapper | None = None) -> None:
    """(Re)create the triggers; run by migration 0006 and after every `migrate` (a SQLite table
    rebuild by a later migration drops its triggers, and the UPDATE trigger lists the columns)."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    drop_triggers(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTIONS)
            cursor.execute(_PG_TRIGGERS)
        else:
            for statement in _sqlite_sql(_columns(connection, ENTRY_TABLE)):
                cursor.execute(statement)


def missing_triggers(connection: BaseDatabaseWrapper | None = None) -> list[str]:
    """The append-only triggers that are not in the database (empty when all are)."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgrelid IN (%s::regclass, %s::regclass)",
                [ENTRY_TABLE, CHAIN_TABLE],
            )
            present = {row[0] for row in cursor.fetchall()}
            wanted: tuple[str, ...] = tuple(PG_TRIGGERS)
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {row[0] for row in cursor.fetchall()}
            wanted = SQLITE_TRIGGERS
        else:
            return []
    return [name for name in wanted if name not in present]


@contextmanager
def erasure(
    organization_id: int | None = None, connection: BaseDatabaseWrapper | None = None
) -> Iterator[None]:
    """Inside this block (one transaction) the trail of `organization_id` — or, with None, every
    entry — may be deleted. Only `delete_organization` and `flush` use it."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    value = permit_value(organization_id)
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, value])
            try:
                yield
            finally:
                if not connection.needs_rollback:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT set_config(%s, '', true)", [SETTING])
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            permits: set[str] = connection.__dict__.setdefault("audit_erasure_permits", set())
            permits.add(value)
            try:
                yield
            finally:
                permits.discard(value)
        else:
            yield
