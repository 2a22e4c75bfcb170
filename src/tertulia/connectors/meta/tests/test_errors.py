"""Graph API error objects mapped to the connector's typed errors, over HTTP."""

from __future__ import annotations

import pytest

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AuthenticationFailed,
    ConnectorError,
    ContentRejected,
    OutgoingPost,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.meta.tests.fake_graph import PAGE_ID, fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "name", "error"),
    [
        (400, "error_expired_token", AuthenticationFailed),
        (400, "error_invalid_parameter", ContentRejected),
        (400, "error_not_found", RemoteNotFound),
        (500, "error_transient", TemporaryFailure),
        (403, "error_rate_limited", RateLimited),
        (400, "error_page_rate_limited", RateLimited),
    ],
)
def test_error_objects(facebook, graph, status, name, error) -> None:
    graph.fail("POST", rf"{PAGE_ID}/feed", status, fixture(name))
    with pytest.raises(error) as caught:
        facebook.publish(OutgoingPost(text="hola"))
    assert caught.value.retryable is (error in (RateLimited, TemporaryFailure))


def test_plain_server_errors_and_unknown_codes(facebook, graph) -> None:
    graph.fail("GET", PAGE_ID, 502, {"nothing": "useful"})
    with pytest.raises(TemporaryFailure):
        facebook.verify_account()
    graph.fail("GET", PAGE_ID, 400, {"error": {"code": 12345, "message": "Nuevo"}})
    with pytest.raises(ConnectorError, match="Nuevo"):
        facebook.verify_account()


def test_rate_limit_uses_the_usage_headers_and_holds_every_worker_off(facebook, graph) -> None:
    headers = fixture("usage_headers_exhausted")
    graph.fail("POST", rf"{PAGE_ID}/feed", 400, fixture("error_page_rate_limited"), headers=headers)
    with pytest.raises(RateLimited) as caught:
        facebook.publish(OutgoingPost(text="hola"))
    assert caught.value.retry_after == 12 * 60  # estimated_time_to_regain_access, in minutes
    asked = len(graph.requests)
    with pytest.raises(RateLimited):
        facebook.verify_account()  # another call, same account: not sent at all
    assert len(graph.requests) == asked


def test_a_rate_limit_without_hints_waits_a_default(facebook, graph) -> None:
    graph.fail("GET", PAGE_ID, 400, fixture("error_rate_limited"))
    with pytest.raises(RateLimited) as caught:
        facebook.verify_account()
    assert caught.value.retry_after == 300


def test_usage_at_100_percent_on_a_success_holds_off_before_the_error(facebook, graph) -> None:
    graph.fail("GET", PAGE_ID, 200, {"id": PAGE_ID, "name": "x"}, headers=fixture("usage_headers_exhausted"))
    facebook.verify_account()
    state = ratelimit.state("facebook", facebook.graph.limiter_key, "calls")
    assert state is not None
    with pytest.raises(RateLimited):
        facebook.verify_account()


def test_missing_token_fails_before_any_request(db, graph) -> None:
    from tertulia.connectors.base import ChannelAccount
    from tertulia.connectors.meta.connector import FacebookPageConnector

    connector = FacebookPageConnector(
        ChannelAccount(handle="x", external_id=PAGE_ID, settings={"base_url": graph.url})
    )
    with pytest.raises(AuthenticationFailed):
        connector.verify_account()
    assert not graph.requests


def test_a_malformed_request_is_caught_by_the_fake(facebook, graph) -> None:
    """The fake's checks are real: a request outside the documented shape is recorded."""
    with pytest.raises(ContentRejected):
        facebook.graph.request("POST", f"{PAGE_ID}/feed", data={"mesage": "typo"})
    assert graph.violations and "mesage" in graph.violations[0]
    graph.violations.clear()  # expected here; the fixture checks the rest
