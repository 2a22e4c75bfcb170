"""Full-text search over messages: FTS5 on SQLite, a GIN tsvector index on PostgreSQL.

The statements are written out here, not imported, so this migration does the same thing
forever whatever tertulia.inbox.search becomes. Queries: tertulia.inbox.search.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQLITE_SETUP = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS inbox_message_fts USING fts5("
    "text, author_handle, content='inbox_message', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS inbox_message_fts_insert AFTER INSERT ON inbox_message BEGIN "
    "INSERT INTO inbox_message_fts(rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS inbox_message_fts_delete AFTER DELETE ON inbox_message BEGIN "
    "INSERT INTO inbox_message_fts(inbox_message_fts, rowid, text, author_handle) "
    "VALUES ('delete', old.id, old.text, old.author_handle); END",
    "CREATE TRIGGER IF NOT EXISTS inbox_message_fts_update AFTER UPDATE OF text, author_handle "
    "ON inbox_message BEGIN "
    "INSERT INTO inbox_message_fts(inbox_message_fts, rowid, text, author_handle) "
    "VALUES ('delete', old.id, old.text, old.author_handle); "
    "INSERT INTO inbox_message_fts(rowid, text, author_handle) VALUES (new.id, new.text, new.author_handle); "
    "END",
    # Rows stored before the table existed (none on a fresh install; cheap when there are none).
    "INSERT INTO inbox_message_fts(inbox_message_fts) VALUES ('rebuild')",
]
SQLITE_TEARDOWN = [
    "DROP TRIGGER IF EXISTS inbox_message_fts_insert",
    "DROP TRIGGER IF EXISTS inbox_message_fts_delete",
    "DROP TRIGGER IF EXISTS inbox_message_fts_update",
    "DROP TABLE IF EXISTS inbox_message_fts",
]
PG_SETUP = [
    "CREATE INDEX IF NOT EXISTS inbox_message_search ON inbox_message USING gin ("
    "to_tsvector('simple'::regconfig, coalesce(text, '') || ' ' || coalesce(author_handle, '')))"
]
PG_TEARDOWN = ["DROP INDEX IF EXISTS inbox_message_search"]


def _run(schema_editor: BaseDatabaseSchemaEditor, sqlite: list[str], postgresql: list[str]) -> None:
    for statement in {"sqlite": sqlite, "postgresql": postgresql}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, SQLITE_SETUP, PG_SETUP)


def uninstall(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, SQLITE_TEARDOWN, PG_TEARDOWN)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
