from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import ChannelAccount
from tertulia.connectors.feeds import connector as feeds_connector
from tertulia.connectors.feeds.connector import FeedConnector
from tertulia.connectors.feeds.tests.server import FeedServer, LiveFeed

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def polling_budget(db) -> Iterator[None]:
    """Fetches spend from the feed's budget in the database. Most tests poll one feed many times in a
    second, which production refuses (once a minute): they get a large budget. Tests that ask for
    `real_feed_budget` get the real one."""
    ratelimit.register(
        feeds_connector.NETWORK, {feeds_connector.FETCH: ratelimit.Budget(limit=10_000, window_seconds=60)}
    )
    yield
    ratelimit.register(feeds_connector.NETWORK, feeds_connector.BUDGETS)


@pytest.fixture
def real_feed_budget(polling_budget: None) -> None:
    ratelimit.register(feeds_connector.NETWORK, feeds_connector.BUDGETS)


@pytest.fixture
def allow_loopback(settings) -> None:
    # The test server is on 127.0.0.1, which production refuses (see fetch.check_host).
    settings.TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer().running() as running:
        yield running


def feed_connector(url: str, **settings: object) -> FeedConnector:
    return FeedConnector(ChannelAccount(handle=url, external_id=url, settings={"url": url, **settings}))


@pytest.fixture
def live(server, allow_loopback) -> LiveFeed:
    return LiveFeed(server)


@pytest.fixture
def connector(live) -> FeedConnector:
    return feed_connector(live.url)
