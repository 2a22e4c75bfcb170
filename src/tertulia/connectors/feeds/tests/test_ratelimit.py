"""Polling politeness: a feed is fetched at most once a minute whatever the number of workers, and a
429 holds every worker off the feed."""

from __future__ import annotations

import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import RateLimited
from tertulia.connectors.feeds.tests.conftest import feed_connector, fixture
from tertulia.connectors.feeds.tests.server import FeedServer


@pytest.fixture
def feed_url(server: FeedServer, allow_loopback: None) -> str:
    return server.serve("/feed.xml", fixture("rss2.xml"))


def test_the_budget_is_once_a_minute(real_feed_budget: None) -> None:
    assert ratelimit.budget_for("feeds", "fetch") == ratelimit.Budget(limit=1, window_seconds=60)


def test_a_second_worker_is_refused_while_the_first_holds_the_budget(
    server: FeedServer, feed_url: str, real_feed_budget: None
) -> None:
    first, second = feed_connector(feed_url), feed_connector(feed_url)
    assert first.fetch_inbound(None).items
    with pytest.raises(RateLimited) as refused:
        second.fetch_inbound(None)
    assert 0 < refused.value.retry_after <= 60
    with pytest.raises(RateLimited):
        first.fetch_inbound(None)  # the first worker too: the budget is the feed's
    assert len(server.requests) == 1  # one fetch reached the feed's server
    other = server.serve("/other.xml", fixture("rss2.xml"))
    assert feed_connector(other).fetch_inbound(None).items  # another feed has its own budget


def test_a_429_makes_every_worker_wait(server: FeedServer, allow_loopback: None) -> None:
    url = server.serve("/busy.xml", b"slow down", status=429, headers={"Retry-After": "900"})
    first, second = feed_connector(url), feed_connector(url)
    with pytest.raises(RateLimited) as limited:
        first.fetch_inbound(None)
    assert limited.value.retry_after == 900
    for worker in (first, second):
        with pytest.raises(RateLimited) as waiting:
            worker.fetch_inbound(None)
        assert 60 < waiting.value.retry_after <= 900  # the feed's wait, not our minute
    assert len(server.requests) == 1


def test_a_429_without_retry_after_waits_five_minutes(server: FeedServer, allow_loopback: None) -> None:
    url = server.serve("/busy.xml", b"slow down", status=429)
    with pytest.raises(RateLimited) as limited:
        feed_connector(url).fetch_inbound(None)
    assert limited.value.retry_after == 300
