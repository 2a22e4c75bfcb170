"""Sign-in discovery goes through the outbound policy: a handle or DID cannot lead Tertulia inside.

Whoever controls a handle chooses the hosts discovery asks (the did:web host, the PDS, the
authorization server and its endpoints), so a private or reserved address among them is refused
before anything is sent to it. A small JSON server on 127.0.0.1 plays the operator's handle
resolver and PLC directory (allowed: the operator configured them), or, with
`TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES`, the whole of a server.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest

from tertulia.connectors.base import ContentRejected
from tertulia.connectors.bluesky import oauth
from tertulia.connectors.bluesky.tests.local_http import LocalHTTP

DID = "did:plc:abcdefghijklmnopqrstuvwx"


class JSONServer(LocalHTTP):
    """Answers GET and POST with the JSON document registered for the path (404 otherwise)."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.paths: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.paths.append(urlsplit(self.path).path)
                document = owner.documents.get(urlsplit(self.path).path)
                body = json.dumps(document).encode()
                self.send_response(404 if document is None else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)


@pytest.fixture
def served(settings: Any) -> Iterator[JSONServer]:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = False
    with JSONServer() as server:
        settings.TERTULIA_BLUESKY_HANDLE_RESOLVER = server.url
        settings.TERTULIA_BLUESKY_PLC_URL = server.url
        yield server


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if anything is connected to (a refused address must not be)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a connection was made: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)


def _resolves_to(server: JSONServer, did: str) -> None:
    server.documents["/xrpc/com.atproto.identity.resolveHandle"] = {"did": did}


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "localhost"])
def test_a_did_web_on_a_private_address_is_refused(served: JSONServer, host: str) -> None:
    _resolves_to(served, f"did:web:{host}")
    with pytest.raises(ContentRejected, match="address is not allowed") as refused:
        oauth.discover("@alice.example")
    assert host in str(refused.value)
    assert "private or reserved network" in str(refused.value)
    # The operator's resolver was asked; the did:web host never was.
    assert served.paths == ["/xrpc/com.atproto.identity.resolveHandle"]


@pytest.mark.usefixtures("no_connection")
@pytest.mark.parametrize("did", ["did:web:127.0.0.1", "did:web:192.168.1.1", "did:web:[::1]"])
def test_no_connection_is_made_to_a_refused_did_web(settings: Any, did: str) -> None:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = False
    with oauth.http_client() as http, pytest.raises(ContentRejected, match="address is not allowed"):
        oauth.pds_of(http, did)


def test_a_pds_on_a_private_address_is_refused(served: JSONServer) -> None:
    _resolves_to(served, DID)
    served.documents[f"/{DID}"] = {
        "id": DID,
        "service": [
            {
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": "http://169.254.169.254",
            }
        ],
    }
    with pytest.raises(ContentRejected, match=r"address is not allowed \(169\.254\.169\.254\)"):
        oauth.discover("alice.example")
    assert served.paths == ["/xrpc/com.atproto.identity.resolveHandle", f"/{DID}"]


@pytest.mark.usefixtures("no_connection")
def test_a_typed_server_on_a_private_address_is_refused(settings: Any) -> None:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ContentRejected, match="address is not allowed"):
        oauth.discover("http://192.168.0.10")


@pytest.mark.usefixtures("no_connection")
def test_the_token_and_par_requests_are_checked_too(settings: Any) -> None:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = False
    with oauth.http_client() as http, pytest.raises(ContentRejected, match="address is not allowed"):
        oauth.dpop_post(http, oauth.DPoPKey.generate(), "https://10.1.2.3/oauth/par", {}, oauth.NonceBook())


def test_discovery_works_on_private_addresses_when_allowed(settings: Any) -> None:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = True
    with JSONServer() as server:
        server.documents["/.well-known/oauth-protected-resource"] = {"authorization_servers": [server.url]}
        server.documents["/.well-known/oauth-authorization-server"] = {
            "issuer": server.url,
            "authorization_endpoint": f"{server.url}/oauth/authorize",
            "token_endpoint": f"{server.url}/oauth/token",
            "pushed_authorization_request_endpoint": f"{server.url}/oauth/par",
            "dpop_signing_alg_values_supported": ["ES256"],
        }
        found = oauth.discover(server.url)
    assert found.server.issuer == server.url
    assert found.pds == server.url


def test_the_same_server_is_refused_when_not_allowed(settings: Any) -> None:
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = False
    with JSONServer() as server, pytest.raises(ContentRejected, match="address is not allowed"):
        oauth.discover(server.url)
    assert server.paths == []
