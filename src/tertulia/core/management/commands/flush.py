"""`flush` that may empty the audit trail too.

The trail's triggers refuse every DELETE and TRUNCATE (`tertulia.core.audit_db`); emptying the whole
database is the one bulk erasure allowed, and only through this command (an operator's
`tertulia manage flush`, and the test suite between transactional tests).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections

from tertulia.core.audit_db import erasure


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with erasure(None, connection):
            super().handle(**options)
