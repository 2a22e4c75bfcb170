"""Test environment, set before Django reads its settings.

pytest-django configures Django before the root conftest.py is imported, so these
defaults live in a plugin that pyproject loads first (`-p tertulia.pytest_plugin`).
Without it the suite would use the person's real data directory and a real queue.
DATABASE_URL and REDIS_URL pass through untouched, so the same suite runs on both
profiles.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TERTULIA_DATA_DIR", tempfile.mkdtemp(prefix="tertulia-test-"))
os.environ.setdefault("TERTULIA_TASKS_IMMEDIATE", "true")
