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

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

os.environ.setdefault("TERTULIA_DATA_DIR", tempfile.mkdtemp(prefix="tertulia-test-"))
os.environ.setdefault("TERTULIA_TASKS_IMMEDIATE", "true")


class TestPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 (same algorithm, same `pbkdf2_sha256$...` hashes) with a test-sized cost.

    At the default 1,000,000 iterations every `set_password` and password sign-in costs
    about a quarter of a second of CPU; the suite does that thousands of times, which
    was a third of its run time. Hashes made with any iteration count still verify.
    Processes started by tests (`tertulia serve`, `tertulia demo`) keep the real cost.
    """

    __test__ = False  # a Django hasher, not a pytest test class
    iterations = 1_000


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return
    default = "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    settings.PASSWORD_HASHERS = [
        f"{__name__}.TestPBKDF2PasswordHasher",
        *(name for name in settings.PASSWORD_HASHERS if name != default),
    ]
