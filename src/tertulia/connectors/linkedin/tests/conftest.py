from __future__ import annotations

from collections.abc import Iterator

import pytest

from tertulia.connectors.base import ChannelAccount
from tertulia.connectors.linkedin.connector import LinkedInConnector
from tertulia.connectors.linkedin.tests.fake import ORG, TOKEN, FakeLinkedIn


@pytest.fixture
def linkedin(db) -> Iterator[FakeLinkedIn]:
    # db: every request spends from the shared rate-limit budgets, which live in the database.
    with FakeLinkedIn().running() as running:
        yield running
        assert running.violations == []  # every test: nothing the connector sent was malformed


def li_connector(linkedin: FakeLinkedIn, token: str = TOKEN, **settings: object) -> LinkedInConnector:
    return LinkedInConnector(
        ChannelAccount(
            handle="tertulia-demo",
            external_id=ORG,
            credentials={
                "access_token": token,
                "refresh_token": "AQX-refresh",
                "client_id": "li-client",
                "client_secret": "li-secret",
                "oauth_base_url": linkedin.url,
            },
            settings={"base_url": linkedin.url, **settings},
        )
    )


@pytest.fixture
def connector(linkedin) -> LinkedInConnector:
    return li_connector(linkedin)
