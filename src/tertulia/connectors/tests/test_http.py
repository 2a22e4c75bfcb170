"""The plumbing the connectors' HTTP clients share (connectors/http.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.utils import translation

from tertulia.connectors import http, ratelimit
from tertulia.connectors.base import TemporaryFailure

NOW = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def _client(handler: httpx.MockTransport) -> httpx.Client:
    return httpx.Client(base_url="https://api.example", transport=handler)


def _raising(error: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.MockTransport(handler)


# -- Retry-After


def test_retry_after_in_seconds() -> None:
    assert http.retry_after("30", 5.0, now=NOW) == 30.0
    assert http.retry_after(" 120 ", 5.0, now=NOW) == 120.0


def test_retry_after_as_an_http_date() -> None:
    assert http.retry_after("Sun, 01 Jun 2025 10:02:00 GMT", 5.0, now=NOW) == 120.0


def test_retry_after_as_a_date_without_a_zone_is_read_as_utc() -> None:
    assert http.retry_after("Sun, 01 Jun 2025 10:01:00 -0000", 5.0, now=NOW) == 60.0


@pytest.mark.parametrize("value", ["soon", "", "-5", "1.5", "Sun, 99 Foo 2025"])
def test_retry_after_that_cannot_be_read_gives_the_default(value: str) -> None:
    assert http.retry_after(value, 5.0, now=NOW) == 5.0


def test_retry_after_in_the_past_means_now() -> None:
    assert http.retry_after("Sun, 01 Jun 2025 09:00:00 GMT", 5.0, now=NOW) == 0.0


# -- no answer at all


def test_a_timeout_is_a_temporary_failure_naming_the_network() -> None:
    with _client(_raising(httpx.ReadTimeout("slow"))) as client, pytest.raises(TemporaryFailure) as failed:
        http.send(client, "LinkedIn", "GET", "/rest/me")
    assert str(failed.value) == "LinkedIn did not answer in time."
    assert failed.value.retryable
    assert isinstance(failed.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.RemoteProtocolError("dropped"), httpx.DecodingError("garbled")],
)
def test_a_connection_that_fails_is_a_temporary_failure(error: Exception) -> None:
    with _client(_raising(error)) as client, pytest.raises(TemporaryFailure) as failed:
        http.send(client, "X", "POST", "/2/tweets", json={"text": "hola"})
    assert str(failed.value) == "Could not reach X."
    assert failed.value.__cause__ is error


def test_a_noun_phrase_starts_the_sentence_with_a_capital() -> None:
    with _client(_raising(httpx.ConnectTimeout("slow"))) as client, pytest.raises(TemporaryFailure) as failed:
        http.send(client, "the WordPress site", "GET", "/wp-json/wp/v2/users/me")
    assert str(failed.value) == "The WordPress site did not answer in time."


def test_the_message_is_translated() -> None:
    with (
        translation.override("es"),
        _client(_raising(httpx.ConnectError("x"))) as client,
        pytest.raises(TemporaryFailure) as failed,
    ):
        http.send(client, "Facebook", "GET", "/me")
    assert str(failed.value) == "No se ha podido contactar con Facebook."


def test_an_answer_is_returned_whatever_its_status() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"error": "later"})

    with _client(httpx.MockTransport(handler)) as client:
        response = http.send(client, "X", "PUT", "/a", params={"q": "1"}, headers={"X-Test": "yes"})
    assert response.status_code == 503
    assert [(r.method, str(r.url), r.headers["x-test"]) for r in seen] == [
        ("PUT", "https://api.example/a?q=1", "yes")
    ]


# -- bodies


def test_response_json_or_a_temporary_failure() -> None:
    assert http.response_json(httpx.Response(200, json={"id": 7}), "LinkedIn") == {"id": 7}
    with pytest.raises(
        TemporaryFailure, match=r"^LinkedIn answered with something that is not JSON \(a cache"
    ):
        http.response_json(httpx.Response(200, text="<html>login</html>"), "LinkedIn")


def test_lenient_json_reads_nothing_and_garbage_as_empty() -> None:
    assert http.lenient_json(httpx.Response(200, json=[1, 2])) == [1, 2]
    assert http.lenient_json(httpx.Response(204)) == {}
    assert http.lenient_json(httpx.Response(502, text="<html>bad gateway</html>")) == {}


def test_body_detail_takes_the_first_key_with_a_value() -> None:
    body = {"message": "", "error_description": "token expired", "error": "invalid_token"}
    assert http.body_detail(httpx.Response(401, json=body), "message", "error_description", "error") == (
        "token expired"
    )
    assert http.body_detail(httpx.Response(400, json={"code": 12}), "message", "code") == "12"
    assert http.body_detail(httpx.Response(400, json=["a"]), "message") == ""
    assert http.body_detail(httpx.Response(502, text="x" * 500), "message") == "x" * 200
    assert http.body_detail(httpx.Response(400, json={"message": "y" * 500}), "message") == "y" * 300


# -- rate-limit windows


def test_ietf_draft_headers_reset_in_seconds() -> None:
    headers = httpx.Headers({"RateLimit-Limit": "60", "RateLimit-Remaining": "12", "RateLimit-Reset": "45"})
    assert http.observed_window(headers, NOW) == (60, 12, NOW + timedelta(seconds=45))


def test_x_ratelimit_headers_reset_as_an_epoch_time() -> None:
    epoch = int((NOW + timedelta(minutes=15)).timestamp())
    headers = httpx.Headers(
        {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(epoch)}
    )
    assert http.observed_window(headers, NOW) == (300, 0, NOW + timedelta(minutes=15))


def test_the_draft_headers_win_over_the_older_ones() -> None:
    headers = httpx.Headers(
        {
            "RateLimit-Limit": "10",
            "X-RateLimit-Limit": "99",
            "X-RateLimit-Remaining": "3",
            "RateLimit-Reset": "5",
        }
    )
    assert http.observed_window(headers, NOW) == (10, 3, NOW + timedelta(seconds=5))


def test_other_prefixes_are_read_when_asked() -> None:
    headers = httpx.Headers(
        {"x-rate-limit-limit": "50", "x-rate-limit-remaining": "49", "x-rate-limit-reset": "9"}
    )
    assert http.observed_window(headers, NOW) is None
    assert http.observed_window(headers, NOW, prefixes=("x-rate-limit-",)) == (
        50,
        49,
        NOW + timedelta(seconds=9),
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"RateLimit-Limit": "60", "RateLimit-Remaining": "12"},  # no reset
        {"RateLimit-Limit": "60", "RateLimit-Remaining": "many", "RateLimit-Reset": "45"},
        {"RateLimit-Limit": "60", "RateLimit-Remaining": "-1", "RateLimit-Reset": "45"},
    ],
)
def test_incomplete_or_unreadable_windows_are_ignored(headers: dict[str, str]) -> None:
    assert http.observed_window(httpx.Headers(headers), NOW) is None


@pytest.mark.django_db
def test_an_observed_window_becomes_the_buckets_count() -> None:
    ratelimit.register("httptest", {"calls": ratelimit.Budget(limit=1000, window_seconds=60)})
    try:
        headers = httpx.Headers(
            {"RateLimit-Limit": "20", "RateLimit-Remaining": "0", "RateLimit-Reset": "45"}
        )
        http.observe_window("httptest", "site", "calls", headers)
        state = ratelimit.state("httptest", "site", "calls")
        assert state is not None and (state.limit, state.remaining) == (20, 0)
        http.observe_window("httptest", "other", "calls", httpx.Headers({}))
        assert ratelimit.state("httptest", "other", "calls") is None
    finally:
        ratelimit._BUDGETS.pop("httptest", None)


# -- the client made on first use


def test_a_lazy_client_is_made_once_and_made_again_after_close() -> None:
    class Holder(http.LazyClient):
        headers = {"User-Agent": http.USER_AGENT}

    holder = Holder()
    first = holder._session()
    assert holder._session() is first
    assert first.headers["user-agent"] == http.USER_AGENT and first.timeout == http.TIMEOUT
    holder.close()
    assert first.is_closed
    assert holder._session() is not first
    holder.close()


def test_a_lazy_client_uses_the_one_it_is_given() -> None:
    given = httpx.Client()
    holder = http.LazyClient(given)
    assert holder._session() is given
    holder.close()
    assert given.is_closed
