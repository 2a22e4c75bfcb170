"""Test-wide fixtures.

The test environment itself (a throwaway data directory, tasks run inline) is set
earlier, by `tertulia.pytest_plugin`, before Django reads its settings.
"""

from __future__ import annotations

import socket

import pytest

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> object:
    """No test may reach beyond this machine (Zulip and Saleor block the network in tests too)."""
    host = address[0] if isinstance(address, tuple) else None
    if (
        isinstance(host, str)
        and host not in {"127.0.0.1", "localhost", "::1"}
        and not host.startswith("127.")
    ):
        raise RuntimeError(f"test tried to reach {host}: tests must stay on 127.0.0.1")
    return _real_connect(self, address)  # type: ignore[arg-type]  # address types vary by family


socket.socket.connect = _loopback_only  # type: ignore[assignment,method-assign]  # deliberate patch


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    from django.utils import translation

    translation.activate("en")


@pytest.fixture(autouse=True)
def _empty_cache() -> object:
    """Cached reads are keyed by ids, and ids are reused after a test's rollback."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
