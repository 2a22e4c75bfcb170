from __future__ import annotations

import pytest

from tertulia.core.models import Brand, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.listening import registry


@pytest.fixture(autouse=True)
def fresh_matchers() -> None:
    registry.forget()  # each test's queries, not a previous test's compiled matcher


@pytest.fixture
def org(db: None) -> Organization:
    return make_org("Escucha SA")


@pytest.fixture
def brand(org: Organization) -> Brand:
    return make_brand(org, "Bodega Demo")


@pytest.fixture
def analyst(org: Organization) -> User:
    return make_member(org, Role.ANALYST, email="analista@example.com")


@pytest.fixture
def contributor(org: Organization) -> User:
    return make_member(org, Role.CONTRIBUTOR, email="colabora@example.com")
