"""A connected account's API calls and stream go through the outbound policy (SSRF, DNS rebinding).

The instance was checked when the account was connected; these requests are checked again, so an
instance whose name now points at an internal address is refused before anything is sent. The spec
server listens on 127.0.0.1: refused unless `TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES` is on (the
conftest turns it on for every other test).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from tertulia.connectors.base import ChannelAccount, ContentRejected
from tertulia.connectors.mastodon.client import MastodonHTTP
from tertulia.connectors.mastodon.connector import MastodonConnector
from tertulia.connectors.mastodon.streaming import stream_mentions
from tertulia.connectors.mastodon.tests.fake import BRAND_ID, TOKEN


def _by_name(url: str, settings) -> str:
    """The same server named `localhost`, a name that resolves to a loopback address, with its port
    open to public addresses: what is left to refuse is the address the name resolves to."""
    port = urlsplit(url).port
    settings.TERTULIA_OUTBOUND_ALLOW = f"*:{port}"
    return f"http://localhost:{port}"


@pytest.mark.parametrize("named", [False, True], ids=["address", "name"])
def test_api_calls_to_a_private_address_are_refused(db, server, mastodon, settings, named):
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = False
    base_url = _by_name(server.url, settings) if named else server.url
    http = MastodonHTTP(base_url, TOKEN, limiter_key="test#refused")
    with pytest.raises(ContentRejected, match="address is not allowed") as refused:
        http.request("GET", "/api/v1/accounts/verify_credentials")
    http.close()
    assert "private or reserved network" in str(refused.value)
    assert not server.requests  # refused before anything was sent


def test_api_calls_work_when_private_addresses_are_allowed(db, server, mastodon, settings):
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = True
    http = MastodonHTTP(_by_name(server.url, settings), TOKEN, limiter_key="test#allowed")
    response = http.request("GET", "/api/v1/accounts/verify_credentials")
    http.close()
    assert response.json()["id"] == BRAND_ID


def test_a_connected_account_is_checked_again_on_every_call(db, server, mastodon, settings):
    connector = MastodonConnector(
        ChannelAccount(
            handle="brand@mastodon.example",
            external_id=BRAND_ID,
            credentials={"access_token": TOKEN},
            settings={"base_url": server.url},
        )
    )
    assert connector.verify_account().external_id == BRAND_ID
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = False  # the same instance, now refused
    refused = MastodonConnector(connector.account)
    with pytest.raises(ContentRejected, match="address is not allowed"):
        refused.verify_account()
    assert len(server.requests_for("getAccountsVerifyCredentials")) == 1


def test_the_stream_to_a_private_address_is_refused(server, mastodon, settings):
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ContentRejected, match="address is not allowed"):
        list(stream_mentions(_by_name(server.url, settings), TOKEN))
    assert not server.requests


def test_the_stream_works_when_private_addresses_are_allowed(server, mastodon, settings):
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = True
    [mention] = mastodon.deliver(1)
    mastodon.stream_events = [("notification", mention)]
    items = list(stream_mentions(_by_name(server.url, settings), TOKEN))
    assert [item.remote_id for item in items] == [mention["status"]["id"]]


def test_a_given_transport_is_used_as_it_is(server, mastodon, settings):
    # Tests (and callers with their own guarded transport) pass one: the setting does not apply.
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = False
    mastodon.stream_events = []
    assert list(stream_mentions(server.url, TOKEN, transport=httpx.HTTPTransport())) == []
    assert len(server.requests) == 1
