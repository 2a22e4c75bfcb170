from __future__ import annotations

import pytest

from tertulia.connectors.tests.contract import ConnectorContract


@pytest.mark.django_db
class TestSandboxContract(ConnectorContract):
    """The sandbox passes the contract every connector must pass (fixtures in conftest)."""
