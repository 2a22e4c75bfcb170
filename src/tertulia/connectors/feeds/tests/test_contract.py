from __future__ import annotations

import pytest

from tertulia.connectors.feeds.tests.server import LiveFeed
from tertulia.connectors.tests.contract import ConnectorContract


class FeedHarness:
    """New blog posts appear in the feed; a feed has no other authors to block and nothing to hide."""

    def __init__(self, live: LiveFeed) -> None:
        self.live = live

    def deliver_inbound(self, count: int) -> None:
        self.live.add(count)

    def other_author_id(self) -> str:
        return "nobody"

    def foreign_post_id(self) -> str:
        self.live.add(1)
        return self.live.items[-1][0]


@pytest.fixture
def harness(live) -> FeedHarness:
    return FeedHarness(live)


class TestFeedContract(ConnectorContract):
    """Over real HTTP against the local feed server (conftest)."""
