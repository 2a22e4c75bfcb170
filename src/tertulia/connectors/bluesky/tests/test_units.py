"""Bluesky rules that need no network: graphemes, facet byte offsets, errors, cursors, keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from atproto_client import exceptions as sdk
from atproto_client.request import Response
from atproto_client.utils import detect_facets, detect_mentions

from tertulia.connectors.base import (
    AuthenticationFailed,
    ChannelAccount,
    ConnectorError,
    ContentRejected,
    OutgoingPost,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.bluesky import inbound
from tertulia.connectors.bluesky.connector import BlueskyConnector, check_text
from tertulia.connectors.bluesky.errors import translate
from tertulia.connectors.bluesky.records import deterministic_tid, parse_at_uri
from tertulia.connectors.bluesky.text import byte_slice, grapheme_count, utf8_offset


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("hola", 4),
        ("café", 4),
        ("cafe\u0301", 4),  # e + combining acute accent
        ("👍🏽", 1),  # skin tone
        ("👩‍👩‍👧‍👦", 1),  # ZWJ family
        ("❤️", 1),  # heart + variation selector
        ("🇪🇸🇲🇽", 2),  # two flags
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", 1),  # tag-sequence flag
        ("مرحبا بالعالم", 13),  # Arabic, right to left
        ("שָׁלוֹם", 4),  # Hebrew with vowel points
        ("a\r\nb", 3),
        # Devanagari: vowel signs and the virama extend, but the conjunct स्त counts as two
        # (UAX #29 of Unicode 15.1 says one): we err towards refusing, never towards the server refusing.
        ("नमस्ते", 4),
    ],
)
def test_grapheme_count(text, count):
    assert grapheme_count(text) == count


def test_text_limit_counts_graphemes_not_code_points():
    check_text("ñ" * 300)  # 300 graphemes, 600 bytes
    check_text("👍🏽" * 300)  # 300 graphemes, 600 code points, 2,400 bytes
    with pytest.raises(ContentRejected):
        check_text("a" * 301)
    check_text("é" * 300)
    with pytest.raises(ContentRejected):
        check_text("e\u0301" * 301)


def test_text_over_the_byte_limit_is_refused_too():
    with pytest.raises(ContentRejected):
        check_text("👩‍👩‍👧‍👦" * 121)  # 121 graphemes but 3,025 bytes


@pytest.mark.parametrize(
    "text",
    [
        "¿Qué tal @ana.test? Mirad https://example.com/menú #Café",
        "🎉🎉 @ana.test 🎉 https://example.com 👩‍👩‍👧 #fiesta",
        "مرحبا @ana.test زوروا https://example.com #مرحبا",
        "שלום @ana.test https://example.com/שלום #שלום",
    ],
)
def test_facets_address_utf8_bytes(text):
    facets = detect_facets(text)
    slices = sorted(byte_slice(text, f.index.byte_start, f.index.byte_end) for f in facets)
    expected_link = next(word for word in text.split() if word.startswith("https://"))
    expected_tag = next(word for word in text.split() if word.startswith("#"))
    assert slices == sorted([expected_link, expected_tag])
    [mention] = detect_mentions(text)
    assert byte_slice(text, mention.byte_start, mention.byte_end) == "@ana.test"
    assert mention.byte_start == utf8_offset(text, text.index("@ana.test"))
    assert mention.byte_start > text.index("@ana.test") or text.isascii()


def _error(cls, status, body=None, headers=None):
    content = None
    if body is not None:
        from atproto_client.models.common import XrpcError

        content = XrpcError(error=body.get("error", ""), message=body.get("message"))
    return cls(Response(success=False, status_code=status, content=content, headers=headers or {}))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            _error(sdk.UnauthorizedError, 401, {"error": "AuthenticationRequired", "message": "bad"}),
            AuthenticationFailed,
        ),
        (
            _error(sdk.BadRequestError, 400, {"error": "ExpiredToken", "message": "Token has expired"}),
            AuthenticationFailed,
        ),
        (_error(sdk.BadRequestError, 400, {"error": "InvalidToken"}), AuthenticationFailed),
        (
            _error(sdk.BadRequestError, 400, {"error": "InvalidRequest", "message": "Invalid record"}),
            ContentRejected,
        ),
        (
            _error(
                sdk.BadRequestError, 400, {"error": "RecordNotFound", "message": "Could not locate record"}
            ),
            RemoteNotFound,
        ),
        (
            _error(sdk.BadRequestError, 400, {"error": "InvalidRequest", "message": "Profile not found"}),
            RemoteNotFound,
        ),
        (_error(sdk.RequestException, 500, {"error": "InternalServerError"}), TemporaryFailure),
        (_error(sdk.RequestException, 503), TemporaryFailure),
        (_error(sdk.NetworkError, 502), TemporaryFailure),
        (_error(sdk.NetworkError, 413, {"error": "PayloadTooLarge"}), ContentRejected),
        (sdk.NetworkError(), TemporaryFailure),
        (sdk.InvokeTimeoutError(), TemporaryFailure),
        (sdk.LoginRequiredError(), AuthenticationFailed),
    ],
)
def test_error_mapping(exc, expected):
    mapped = translate(exc)
    assert type(mapped) is expected
    assert mapped.retryable == (expected is TemporaryFailure)


def test_rate_limit_uses_the_reset_header():
    reset = int((datetime.now(UTC) + timedelta(seconds=120)).timestamp())
    mapped = translate(
        _error(
            sdk.RateLimitExceededError, 429, {"error": "RateLimitExceeded"}, {"ratelimit-reset": str(reset)}
        )
    )
    assert isinstance(mapped, RateLimited)
    assert 100 < mapped.retry_after <= 120
    hinted = translate(_error(sdk.RateLimitExceededError, 429, None, {"retry-after": "7"}))
    assert isinstance(hinted, RateLimited) and hinted.retry_after == 7


def test_transport_errors_from_httpx_are_temporary():
    try:
        raise sdk.NetworkError from httpx.ConnectError("refused")
    except sdk.NetworkError as exc:
        assert isinstance(translate(exc), TemporaryFailure)


def _listed(seconds, uri, wanted=True):
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    return inbound.Listed(mark=inbound.Mark(at, uri), wanted=wanted, payload=uri)


def test_cursor_hands_out_oldest_first_and_skips_unwanted_kinds():
    listed = [
        _listed(3, "at://c"),
        _listed(1, "at://a"),
        _listed(2, "at://like", wanted=False),
        _listed(3, "at://b"),
    ]
    picked, mark = inbound.select_after(listed, inbound.BEGINNING, limit=2)
    assert [p.payload for p in picked] == ["at://a", "at://b"]
    assert mark == inbound.Mark(listed[3].mark.at, "at://b")
    rest, mark = inbound.select_after(listed, inbound.parse_cursor(mark.encode()), limit=2)
    assert [p.payload for p in rest] == ["at://c"]
    nothing, same = inbound.select_after(listed, mark, limit=2)
    assert nothing == [] and same == mark


def test_first_read_marks_everything_listed():
    listed = [_listed(1, "at://a"), _listed(2, "at://b"), _listed(3, "at://like", wanted=False)]
    picked, mark = inbound.newest_wanted(listed, limit=1)
    assert [p.payload for p in picked] == ["at://b"]
    assert mark.uri == "at://like"
    assert inbound.newest_wanted([], 5) == ([], inbound.BEGINNING)
    assert inbound.parse_cursor(inbound.BEGINNING.encode()) == inbound.BEGINNING


def test_bad_cursor_is_an_error():
    with pytest.raises(ConnectorError):
        inbound.parse_cursor("yesterday")


def test_deterministic_record_keys_are_valid_tids():
    key = deterministic_tid("did:plc:abc", "delivery-1")
    assert key == deterministic_tid("did:plc:abc", "delivery-1")
    assert key != deterministic_tid("did:plc:abc", "delivery-2")
    assert key != deterministic_tid("did:plc:xyz", "delivery-1")
    assert len(key) == 13 and key[0] in "234567abcdefghij"
    assert set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")


def test_at_uris():
    uri = parse_at_uri("at://did:plc:abc/app.bsky.feed.post/3k2")
    assert uri is not None and (uri.repo, uri.collection, uri.rkey) == (
        "did:plc:abc",
        "app.bsky.feed.post",
        "3k2",
    )
    assert parse_at_uri("no-such-post-anywhere") is None
    assert parse_at_uri("at://did:plc:abc/app.bsky.feed.post") is None


def test_no_session_means_reconnect():
    connector = BlueskyConnector(ChannelAccount(handle="ana.test"))
    with pytest.raises(AuthenticationFailed):
        connector.publish(OutgoingPost(text="hola"))
