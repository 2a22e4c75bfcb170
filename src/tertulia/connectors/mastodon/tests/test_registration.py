"""Tertulia registering itself on an instance (`POST /api/v1/apps`), over HTTP against the spec server."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tertulia.connectors.base import AuthenticationFailed, ContentRejected, RateLimited, TemporaryFailure
from tertulia.connectors.mastodon.connector import SCOPES, MastodonConnector
from tertulia.connectors.mastodon.tests.fake import BRAND_ID, TOKEN
from tertulia.connectors.testing.spec_server import SpecResponse

CALLBACK = "https://tertulia.example/settings/channels/callback"


def test_register_app_sends_what_the_sign_in_will_use(server, mastodon):
    client = MastodonConnector.register_app(server.url + "/", CALLBACK)
    [request] = server.requests_for("createApp")
    assert request.json() == {
        "client_name": "Tertulia",
        "redirect_uris": [CALLBACK],
        "scopes": SCOPES,
        "website": "https://tertulia.example/",
    }
    assert "authorization" not in request.headers  # an app registers before anyone signs in
    app = mastodon.apps[client.client_id]
    assert (client.client_secret, client.base_url) == (app["client_secret"], server.url)


def test_a_registered_app_signs_in_end_to_end(server, mastodon):
    client = MastodonConnector.register_app(server.url, CALLBACK)
    url = MastodonConnector.authorization_url(client, CALLBACK, "state-9", "v" * 64)
    assert httpx.get(url).status_code == 200  # client, redirect URI, scopes and S256 accepted
    back = parse_qs(urlsplit(mastodon.approvals[-1]).query)
    assert back["state"] == ["state-9"]
    connected = MastodonConnector.complete_authorization(client, CALLBACK, back["code"][0], "v" * 64)
    assert (connected.credentials["access_token"], connected.info.external_id) == (TOKEN, BRAND_ID)


def test_the_instance_checks_the_registered_client(server, mastodon):
    client = MastodonConnector.register_app(server.url, CALLBACK)
    elsewhere = MastodonConnector.authorization_url(client, "https://other.example/cb", "s", "v" * 64)
    assert httpx.get(elsewhere).status_code == 400  # a redirect URI the app did not register
    url = MastodonConnector.authorization_url(client, CALLBACK, "s", "v" * 64)
    httpx.get(url)
    code = parse_qs(urlsplit(mastodon.approvals[-1]).query)["code"][0]
    forged = type(client)(client.client_id, "not-the-secret", client.base_url)
    with pytest.raises(AuthenticationFailed):
        MastodonConnector.complete_authorization(forged, CALLBACK, code, "v" * 64)


def test_a_refused_registration_says_why(server, mastodon):
    with pytest.raises(ContentRejected, match=r"refused to register Tertulia: .*absolute URI"):
        MastodonConnector.register_app(server.url, "not-a-uri")


@pytest.mark.parametrize(
    "answer",
    [
        SpecResponse(status=404, body={"error": "Record not found"}),
        SpecResponse(status=200, body=b"<html>A blog</html>", content_type="text/html"),
    ],
    ids=["not-found", "html"],
)
def test_a_server_that_is_not_mastodon_is_named(server, answer):
    server.on("createApp", answer)
    with pytest.raises(ContentRejected, match="does not answer as a Mastodon instance does"):
        MastodonConnector.register_app(server.url, CALLBACK)


def test_busy_instances_are_temporary(server, fixtures):
    server.on("createApp", SpecResponse(status=503, body=fixtures.build("Error", error="busy")))
    with pytest.raises(TemporaryFailure):
        MastodonConnector.register_app(server.url, CALLBACK)
    server.on(
        "createApp",
        SpecResponse(status=429, body=fixtures.build("Error", error="slow"), headers={"Retry-After": "60"}),
    )
    with pytest.raises(RateLimited) as raised:
        MastodonConnector.register_app(server.url, CALLBACK)
    assert raised.value.retry_after == 60


def test_an_unreachable_instance_is_temporary():
    with pytest.raises(TemporaryFailure, match=re.escape("Could not reach http://127.0.0.1:9.")):
        MastodonConnector.register_app("http://127.0.0.1:9", CALLBACK)


def test_private_addresses_are_not_registered_on(server, settings):
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ContentRejected, match="private or reserved network"):
        MastodonConnector.register_app(server.url, CALLBACK)
    assert not server.requests  # refused before any request left
