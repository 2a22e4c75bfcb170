"""Fixtures for the process-level and browser tests (tests/ at the repository root).

These tests run the installed `tertulia` command as separate processes, the way an
operator does, so they see what an operator sees: exit codes, one-line errors,
ports, files and child processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.processes import tertulia_env

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory that does not exist yet: `tertulia` must create it."""
    return tmp_path / "data"


@pytest.fixture
def embedded_env(data_dir: Path) -> dict[str, str]:
    """Environment for the embedded profile (SQLite + Huey on SQLite) in a fresh data directory."""
    return tertulia_env(data_dir)


@pytest.fixture(scope="session")
def ci_logs() -> Path:
    """Where screenshots and process logs go: $TERTULIA_CI_LOGS, else ci-logs/ in the clone (gitignored)."""
    folder = Path(os.environ.get("TERTULIA_CI_LOGS") or REPO_ROOT / "ci-logs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
