"""A connected account's requests to its PDS go through the outbound policy, both kinds of session.

The PDS is whatever the account's DID document names (and at sign-in, whatever server the person
types), so an account could point Tertulia at an internal address. App-password and OAuth sessions
alike are refused on private or reserved addresses before anything is sent (the test fails if a
connection is made), and reach them when `TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES` is on, as the
reference network's tests need; a small server on 127.0.0.1 plays the PDS.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest

from tertulia.connectors.base import ChannelAccount, ContentRejected, TemporaryFailure
from tertulia.connectors.bluesky import oauth
from tertulia.connectors.bluesky.connector import BlueskyConnector
from tertulia.connectors.bluesky.errors import translate
from tertulia.connectors.bluesky.tests.local_http import LocalHTTP
from tertulia.core.outbound import OutboundFailed

DID = "did:plc:abcdefghijklmnopqrstuvwx"
REFUSED_HOSTS = ["127.0.0.1", "10.0.0.7", "169.254.169.254"]


class FakePDS(LocalHTTP):
    """Answers the two XRPC queries `verify_account` asks, and redirects where told to."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {
            "/xrpc/com.atproto.server.getSession": {"did": DID, "handle": "alice.test"},
            "/xrpc/app.bsky.actor.getProfile": {"did": DID, "handle": "alice.test", "displayName": "Alice"},
        }
        self.redirects: dict[str, str] = {}
        self.authorizations: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                owner.authorizations.append(self.headers.get("Authorization", ""))
                if path in owner.redirects:
                    self.send_response(302)
                    self.send_header("Location", owner.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                document = owner.documents.get(path)
                body = json.dumps(document or {"error": "NotFound"}).encode()
                self.send_response(404 if document is None else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture
def pds() -> Iterator[FakePDS]:
    with FakePDS() as server:
        yield server


@pytest.fixture
def refusing(settings: Any) -> None:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = False
    settings.TERTULIA_OUTBOUND_ALLOW = ""


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if anything is connected to (a refused address must not be)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a connection was made: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)


def password_account(service: str) -> BlueskyConnector:
    credentials = {"access_jwt": "access", "refresh_jwt": "refresh", "did": DID, "service": service}
    return BlueskyConnector(ChannelAccount(handle="alice.test", external_id=DID, credentials=credentials))


def oauth_account(service: str) -> BlueskyConnector:
    credentials = {
        "auth": "oauth",
        "access_token": "oauth-access",
        "refresh_token": "oauth-refresh",
        "dpop_key": json.dumps(oauth.DPoPKey.generate().private_jwk()),
        "token_endpoint": "https://auth.example/oauth/token",
        "client_id": "https://tertulia.example/oauth/bluesky/client-metadata.json",
        "did": DID,
        "service": service,
    }
    return BlueskyConnector(ChannelAccount(handle="alice.test", external_id=DID, credentials=credentials))


@pytest.mark.usefixtures("refusing", "no_connection")
@pytest.mark.parametrize("account", [password_account, oauth_account], ids=["app-password", "oauth"])
@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_pds_on_a_private_address_is_refused_before_anything_is_sent(account: Any, host: str) -> None:
    connector = account(f"http://{host}")
    try:
        with pytest.raises(ContentRejected, match="address is not allowed") as refused:
            connector.verify_account()
    finally:
        connector.close()
    assert host in str(refused.value)


@pytest.mark.usefixtures("refusing", "no_connection")
def test_an_app_password_session_is_not_refreshed_on_a_private_address() -> None:
    connector = password_account("http://169.254.169.254")
    with pytest.raises(ContentRejected, match="address is not allowed"):
        connector.refresh_credentials()


@pytest.mark.usefixtures("refusing", "no_connection")
@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_signing_in_with_an_app_password_on_a_private_server_is_refused(host: str) -> None:
    with pytest.raises(ContentRejected, match="address is not allowed"):
        BlueskyConnector.connect_with_password("alice.test", "app-pass-word", f"http://{host}:2583")


@pytest.mark.usefixtures("refusing")
@pytest.mark.parametrize("account", [password_account, oauth_account], ids=["app-password", "oauth"])
def test_the_local_pds_is_refused_even_when_it_answers(pds: FakePDS, account: Any) -> None:
    connector = account(pds.url)
    try:
        with pytest.raises(ContentRejected, match="address is not allowed"):
            connector.verify_account()
    finally:
        connector.close()
    assert pds.authorizations == []  # nothing reached it


@pytest.mark.parametrize("account", [password_account, oauth_account], ids=["app-password", "oauth"])
def test_the_setting_lets_both_kinds_of_session_reach_a_local_pds(
    settings: Any, pds: FakePDS, account: Any
) -> None:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = True
    connector = account(pds.url)
    try:
        info = connector.verify_account()
    finally:
        connector.close()
    assert (info.external_id, info.handle, info.display_name) == (DID, "alice.test", "Alice")
    expected = "DPoP oauth-access" if account is oauth_account else "Bearer access"
    assert pds.authorizations == [expected, expected]


@pytest.mark.usefixtures("refusing")
@pytest.mark.parametrize("account", [password_account, oauth_account], ids=["app-password", "oauth"])
def test_every_redirect_hop_is_checked(settings: Any, pds: FakePDS, account: Any) -> None:
    # The allow-list opens the PDS itself, not where it redirects to.
    settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{pds.port}"
    pds.redirects["/xrpc/com.atproto.server.getSession"] = "http://169.254.169.254/latest/meta-data/"
    connector = account(pds.url)
    try:
        with pytest.raises(ContentRejected, match=r"address is not allowed: 169\.254\.169\.254"):
            connector.verify_account()
    finally:
        connector.close()
    assert len(pds.authorizations) == 1  # the PDS was asked; the redirect was not followed


def test_a_server_that_cannot_be_resolved_is_a_temporary_failure() -> None:
    failed = OutboundFailed("pds.example could not be resolved.", code="resolve", detail="pds.example")
    assert isinstance(translate(failed), TemporaryFailure)
