"""LinkedIn's shared budgets: every worker (here, separate connector instances for the same channel)
spends from the same database rows, and a 429 holds them all off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import OutgoingPost, RateLimited
from tertulia.connectors.linkedin import client
from tertulia.connectors.linkedin.tests.conftest import li_connector
from tertulia.connectors.linkedin.tests.fake import ORG, FakeLinkedIn


@pytest.fixture
def small_budgets() -> Iterator[None]:
    """Budgets small enough to use up in a test; the real ones are restored afterwards."""
    ratelimit.register(
        client.NETWORK,
        {
            client.WRITES: ratelimit.Budget(limit=2, window_seconds=client.DAY),
            client.CALLS: ratelimit.Budget(limit=10, window_seconds=client.DAY),
        },
    )
    yield
    ratelimit.register(client.NETWORK, client.BUDGETS)


def test_budgets_are_registered_and_spent(linkedin: FakeLinkedIn) -> None:
    assert ratelimit.budget_for("linkedin", "writes") == ratelimit.Budget(150, 24 * 3600)
    assert ratelimit.budget_for("linkedin", "calls") is not None
    li_connector(linkedin).publish(OutgoingPost(text="Hola"))
    writes = ratelimit.state("linkedin", ORG, "writes")
    calls = ratelimit.state("linkedin", ORG, "calls")
    assert writes is not None and writes.remaining == 149
    assert calls is not None and calls.remaining == calls.limit - 1
    app = ratelimit.state("linkedin", "*", "app")
    assert app is not None and app.remaining == app.limit - 1


def test_a_second_worker_is_refused_while_the_first_holds_the_budget(
    linkedin: FakeLinkedIn, small_budgets: None
) -> None:
    first, second = li_connector(linkedin), li_connector(linkedin)
    first.publish(OutgoingPost(text="Uno"))
    first.publish(OutgoingPost(text="Dos"))
    sent = len(linkedin.requests)
    with pytest.raises(RateLimited) as refused:
        second.publish(OutgoingPost(text="Tres"))
    assert refused.value.retry_after > 0
    assert len(linkedin.requests) == sent  # refused here, nothing reached LinkedIn
    second.verify_account()  # reading is another budget, still open


def test_a_429_makes_every_worker_wait(linkedin: FakeLinkedIn) -> None:
    first, second = li_connector(linkedin), li_connector(linkedin)
    linkedin.fail_next = (429, {"message": "Resource level throttle limit"}, {"Retry-After": "600"})
    with pytest.raises(RateLimited) as limited:
        first.verify_account()
    assert limited.value.retry_after == 600
    sent = len(linkedin.requests)
    for worker in (first, second):
        with pytest.raises(RateLimited) as waiting:
            worker.verify_account()
        assert 0 < waiting.value.retry_after <= 600
    assert len(linkedin.requests) == sent


def test_a_429_without_retry_after_waits_an_hour(linkedin: FakeLinkedIn) -> None:
    linkedin.fail_next = (429, {"message": "slow down"}, {})
    with pytest.raises(RateLimited) as limited:
        li_connector(linkedin).verify_account()
    assert limited.value.retry_after == client.DEFAULT_RETRY_AFTER


def test_which_requests_are_writes() -> None:
    assert client.buckets_for("POST", "/rest/posts") == ["writes", "calls"]
    assert client.buckets_for("POST", "/rest/socialActions/urn%3Ali%3Ashare%3A1/comments") == [
        "writes",
        "calls",
    ]
    assert client.buckets_for("DELETE", "/rest/posts/urn%3Ali%3Ashare%3A1") == ["calls"]
    assert client.buckets_for("GET", "/rest/posts?q=author") == ["calls"]
