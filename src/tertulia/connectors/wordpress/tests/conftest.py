from __future__ import annotations

from collections.abc import Iterator

import pytest

from tertulia.connectors.base import ChannelAccount
from tertulia.connectors.wordpress.connector import WordPressConnector
from tertulia.connectors.wordpress.tests.fake import APP_PASSWORD, USERNAME, FakeWordPress


@pytest.fixture
def site(db, settings) -> Iterator[FakeWordPress]:
    # db: every request spends from the site's shared rate-limit budget, kept in the database.
    with FakeWordPress().running() as running:
        # The fake listens on 127.0.0.1, which the outbound guard refuses unless the allow-list opens it.
        settings.TERTULIA_OUTBOUND_ALLOW = running.url.split("//", 1)[1]
        yield running
        assert running.violations == []  # every test: nothing the connector sent was malformed


def wp_connector(site: FakeWordPress, password: str = APP_PASSWORD) -> WordPressConnector:
    return WordPressConnector(
        ChannelAccount(
            handle=f"{USERNAME}@blog",
            external_id=f"{site.url}#3",
            credentials={"username": USERNAME, "application_password": password, "base_url": site.url},
            settings={"service": site.url},
        )
    )


@pytest.fixture
def connector(site) -> WordPressConnector:
    return wp_connector(site)
