from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tertulia.connectors.base import ChannelAccount
from tertulia.connectors.mastodon.connector import MastodonConnector
from tertulia.connectors.mastodon.spec import SPEC_PATCHES, SPEC_PATH
from tertulia.connectors.mastodon.tests.fake import BRAND_ID, TOKEN, FakeMastodon
from tertulia.connectors.testing.spec_server import SchemaFixtures, SpecServer, load_spec


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return load_spec(SPEC_PATH, SPEC_PATCHES)


@pytest.fixture(scope="session")
def fixtures(spec) -> SchemaFixtures:
    return SchemaFixtures(spec)


@pytest.fixture(autouse=True)
def _private_addresses_allowed(settings) -> None:
    # The spec server listens on 127.0.0.1, which registration refuses by default (SSRF).
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def server(spec) -> Iterator[SpecServer]:
    # Mastodon (Rails) takes arrays as `types[]=...`; the spec names them `types`.
    with SpecServer(spec, bracket_arrays=True, accepted_tokens={TOKEN}) as running:
        yield running
        running.assert_all_valid()  # every test: nothing the client sent fell outside the spec


@pytest.fixture
def mastodon(server, fixtures) -> FakeMastodon:
    return FakeMastodon(server, fixtures)


@pytest.fixture
def connector(db, server, mastodon) -> MastodonConnector:
    return MastodonConnector(
        ChannelAccount(
            handle="brand@mastodon.example",
            external_id=BRAND_ID,
            credentials={"access_token": TOKEN},
            settings={"base_url": server.url, "media_poll_interval": 0},
        )
    )
