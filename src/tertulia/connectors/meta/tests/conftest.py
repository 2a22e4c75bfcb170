from __future__ import annotations

from collections.abc import Iterator

import pytest

from tertulia.connectors.base import ChannelAccount
from tertulia.connectors.meta.connector import FacebookPageConnector, InstagramConnector
from tertulia.connectors.meta.tests.fake_graph import IG_ID, PAGE_ID, PAGE_TOKEN, FakeGraph, GraphServer


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    with GraphServer(fake) as server:
        fake.url = server.url  # type: ignore[attr-defined]  # set once the server runs
        yield fake
    # Every test: nothing the connector sent fell outside the documented requests.
    fake.assert_all_valid()


@pytest.fixture
def facebook(db, graph) -> FacebookPageConnector:
    return FacebookPageConnector(
        ChannelAccount(
            handle="casatertulia",
            external_id=PAGE_ID,
            credentials={"access_token": PAGE_TOKEN, "page_id": PAGE_ID},
            settings={"base_url": graph.url},
        )
    )


@pytest.fixture
def instagram(db, graph) -> InstagramConnector:
    return InstagramConnector(
        ChannelAccount(
            handle="casa.tertulia",
            external_id=IG_ID,
            credentials={"access_token": PAGE_TOKEN, "page_id": PAGE_ID, "ig_user_id": IG_ID},
            settings={"base_url": graph.url, "container_poll_interval": 0},
        )
    )
