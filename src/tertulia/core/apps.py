from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tertulia.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Defines the SQLite function the audit trail's delete trigger asks (on each new connection).
        from tertulia.core import audit_db  # noqa: F401  (connects its connection_created receiver)

        post_migrate.connect(_audit_triggers, sender=self)


def _audit_triggers(sender: AppConfig, using: str = "default", plan: Any = None, **kwargs: Any) -> None:
    """Put the audit trail's append-only triggers back after every migrate: a later migration that
    rebuilds the table on SQLite drops them, and the SQLite one lists the table's columns."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from tertulia.core.audit_db import ENTRY_TABLE, install_triggers

    connection = connections[using]
    if ENTRY_TABLE not in connection.introspection.table_names():
        return
    applied = MigrationRecorder(connection).applied_migrations()
    if ("core", "0006_audit_hash_chain") in applied:
        install_triggers(connection)
