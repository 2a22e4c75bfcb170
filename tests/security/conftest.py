"""Fixtures for the project-wide security suites: one seeded organization per module.

Building the organization takes seconds, so it is built once per module inside a transaction that
is rolled back when the module ends; each test still runs in its own savepoint (pytest-django's
`db`), so what one test changes is gone before the next.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.seed import World, build_world, poison


def _world(request: pytest.FixtureRequest, hostile: bool) -> Iterator[World]:
    blocker = request.getfixturevalue("django_db_blocker")
    request.getfixturevalue("django_db_setup")
    media = request.getfixturevalue("tmp_path_factory").mktemp("security-media")
    fast = override_settings(
        MEDIA_ROOT=str(media), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with blocker.unblock(), fast, transaction.atomic():
        world = build_world()
        if hostile:
            world.poisoned = poison()
        try:
            yield world
        finally:
            transaction.set_rollback(True)


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    """The seeded organization, as people and networks left it."""
    yield from _world(request, hostile=False)


@pytest.fixture(scope="module")
def hostile_world(request: pytest.FixtureRequest) -> Iterator[World]:
    """The seeded organization with a hostile payload in every user-editable text field."""
    yield from _world(request, hostile=True)
