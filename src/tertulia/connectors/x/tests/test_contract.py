from __future__ import annotations

import pytest

from tertulia.connectors.tests.contract import ConnectorContract


@pytest.mark.django_db
class TestXContract(ConnectorContract):
    """X passes the contract every connector passes, against the fake X on the spec server (conftest)."""
