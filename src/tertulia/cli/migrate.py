from __future__ import annotations

from typing import Any

import click
from django.core.management import call_command
from django.core.management.commands import migrate as django_migrate
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def pending_migrations() -> int:
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return len(executor.migration_plan(targets))


class _ProgressMigrate(django_migrate.Command):
    """Django's migrate, reporting each applied migration to a progress bar."""

    bar: Any = None

    def migration_progress_callback(self, action: str, migration: Any = None, fake: bool = False) -> None:
        if action == "apply_success" and self.bar is not None:
            self.bar.update(1)


def migrate_with_progress(quiet: bool = False) -> int:
    """Apply pending migrations, showing progress. Returns how many were applied."""
    todo = pending_migrations()
    if todo == 0:
        return 0
    command = _ProgressMigrate()
    if quiet:
        call_command(command, verbosity=0, interactive=False)
        return todo
    with click.progressbar(length=todo, label="Preparing the database", show_pos=True) as bar:
        command.bar = bar
        call_command(command, verbosity=0, interactive=False)
    return todo
