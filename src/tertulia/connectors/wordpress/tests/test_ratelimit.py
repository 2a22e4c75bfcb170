"""The per-site budget every worker shares, a 429 that holds them all off, and trash that is off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import ConnectorError, RateLimited, TemporaryFailure
from tertulia.connectors.wordpress import client
from tertulia.connectors.wordpress.tests.conftest import wp_connector
from tertulia.connectors.wordpress.tests.fake import FakeWordPress


@pytest.fixture
def small_budget() -> Iterator[None]:
    ratelimit.register(client.NETWORK, {client.REQUESTS: ratelimit.Budget(limit=3, window_seconds=60)})
    yield
    ratelimit.register(client.NETWORK, client.BUDGETS)


def test_every_request_spends_from_the_site_budget(site: FakeWordPress) -> None:
    connector = wp_connector(site)
    connector.verify_account()
    connector.verify_account()
    state = ratelimit.state("wordpress", connector.http.account_key, "requests")
    assert state is not None and (state.limit, state.remaining) == (60, 58)


def test_a_second_worker_is_refused_while_the_first_holds_the_budget(
    site: FakeWordPress, small_budget: None
) -> None:
    first, second = wp_connector(site), wp_connector(site)
    for _ in range(3):
        first.verify_account()
    sent = len(site.requests)
    with pytest.raises(RateLimited) as refused:
        second.verify_account()
    assert refused.value.retry_after > 0
    assert len(site.requests) == sent  # nothing reached the site


def test_a_429_makes_every_worker_wait(site: FakeWordPress) -> None:
    first, second = wp_connector(site), wp_connector(site)
    site.fail_next = (429, {"Retry-After": "300"})
    with pytest.raises(RateLimited) as limited:
        first.verify_account()
    assert limited.value.retry_after == 300
    sent = len(site.requests)
    for worker in (first, second):
        with pytest.raises(RateLimited) as waiting:
            worker.verify_account()
        assert 0 < waiting.value.retry_after <= 300
    assert len(site.requests) == sent


def test_the_sites_own_rate_headers_are_adopted(site: FakeWordPress) -> None:
    site.rate_headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "45"}
    first, second = wp_connector(site), wp_connector(site)
    first.verify_account()
    state = ratelimit.state("wordpress", first.http.account_key, "requests")
    assert state is not None and (state.limit, state.remaining) == (20, 0)
    sent = len(site.requests)
    with pytest.raises(RateLimited):
        second.verify_account()
    assert len(site.requests) == sent


def test_trash_turned_off_is_not_retryable(site: FakeWordPress) -> None:
    connector = wp_connector(site)
    comment = site.add_comment("Borrar esto")
    site.trash_disabled = True
    with pytest.raises(ConnectorError, match="trash turned off") as refused:
        connector.delete(str(comment["id"]))
    assert not refused.value.retryable
    assert not isinstance(refused.value, TemporaryFailure)
    assert site.comments[comment["id"]]["status"] == "approved"  # nothing was deleted


def test_other_501s_are_not_retryable_either(site: FakeWordPress) -> None:
    site.fail_next = (501, {})
    with pytest.raises(ConnectorError) as refused:
        wp_connector(site).verify_account()
    assert not refused.value.retryable
