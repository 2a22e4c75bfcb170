"""OAuth 2.0 with PKCE (S256) and refresh, against the fake X's token endpoint over real HTTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from tertulia.connectors.base import AuthenticationFailed, OAuthClient
from tertulia.connectors.x.connector import XConnector
from tertulia.connectors.x.oauth import code_challenge
from tertulia.connectors.x.tests.conftest import make_connector
from tertulia.connectors.x.tests.fake_x import CLIENT_ID, CLIENT_SECRET, FakeX, s256

REDIRECT = "https://tertulia.example/connect/x/callback"
# RFC 7636 appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
VERIFIER = "v" * 43 + "-._~0123456789"


def test_s256_challenge_matches_rfc_7636() -> None:
    assert code_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_authorization_url() -> None:
    url = XConnector.authorization_url(OAuthClient(CLIENT_ID), REDIRECT, "state-123", RFC_VERIFIER)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT
    assert query["state"] == "state-123"
    assert query["code_challenge"] == RFC_CHALLENGE
    assert query["code_challenge_method"] == "S256"
    scopes = set(query["scope"].split(" "))
    assert {"tweet.read", "tweet.write", "users.read", "offline.access", "dm.read", "dm.write"} <= scopes
    assert RFC_VERIFIER not in url  # the verifier never leaves Tertulia before the token exchange


def test_authorization_url_on_a_test_network() -> None:
    url = XConnector.authorization_url(
        OAuthClient(CLIENT_ID, base_url="http://127.0.0.1:9"), REDIRECT, "s", VERIFIER
    )
    assert url.startswith("http://127.0.0.1:9/i/oauth2/authorize?")


@pytest.mark.django_db
def test_confidential_client_exchanges_the_code(fake: FakeX) -> None:
    code = fake.authorize(CLIENT_ID, REDIRECT, s256(VERIFIER))
    client = OAuthClient(CLIENT_ID, CLIENT_SECRET, base_url=fake.server.url)
    connected = XConnector.complete_authorization(client, REDIRECT, code, VERIFIER)
    assert connected.info.external_id == fake.me_id
    assert connected.info.handle == "casa_prueba"
    assert connected.credentials["access_token"] in fake.access_tokens
    assert connected.credentials["refresh_token"] in fake.refresh_tokens
    assert connected.expires_at is not None
    assert connected.expires_at - datetime.now(UTC) <= timedelta(hours=2)
    [token_request] = fake.server.requests_for("oauth2Token")
    # Basic auth with the client secret; neither the secret nor the client id in the form.
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.headers["authorization"] == f"Basic {expected}"
    form = parse_qs(token_request.body.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["code_verifier"] == [VERIFIER]
    assert "client_id" not in form and "client_secret" not in form
    # The account lookup used the new token.
    [me] = fake.server.requests_for("getUsersMe")
    assert me.headers["authorization"] == f"Bearer {connected.credentials['access_token']}"


@pytest.mark.django_db
def test_public_client_sends_its_id(fake: FakeX) -> None:
    code = fake.authorize(CLIENT_ID, REDIRECT, s256(VERIFIER))
    connected = XConnector.complete_authorization(
        OAuthClient(CLIENT_ID, base_url=fake.server.url), REDIRECT, code, VERIFIER
    )
    assert connected.info.external_id == fake.me_id
    [token_request] = fake.server.requests_for("oauth2Token")
    assert "authorization" not in token_request.headers
    assert parse_qs(token_request.body.decode())["client_id"] == [CLIENT_ID]


@pytest.mark.django_db
def test_a_wrong_verifier_or_a_used_code_is_refused(fake: FakeX) -> None:
    client = OAuthClient(CLIENT_ID, CLIENT_SECRET, base_url=fake.server.url)
    code = fake.authorize(CLIENT_ID, REDIRECT, s256(VERIFIER))
    with pytest.raises(AuthenticationFailed):
        XConnector.complete_authorization(client, REDIRECT, code, "w" * 43)
    code = fake.authorize(CLIENT_ID, REDIRECT, s256(VERIFIER))
    XConnector.complete_authorization(client, REDIRECT, code, VERIFIER)
    with pytest.raises(AuthenticationFailed):
        XConnector.complete_authorization(client, REDIRECT, code, VERIFIER)


@pytest.mark.django_db
def test_refresh_rotates_the_tokens(fake: FakeX) -> None:
    code = fake.authorize(CLIENT_ID, REDIRECT, s256(VERIFIER))
    client = OAuthClient(CLIENT_ID, CLIENT_SECRET, base_url=fake.server.url)
    first = XConnector.complete_authorization(client, REDIRECT, code, VERIFIER).credentials
    connector = make_connector(fake, **first)
    renewed = connector.refresh_credentials()
    assert renewed["access_token"] != first["access_token"]
    assert renewed["refresh_token"] != first["refresh_token"]
    assert datetime.fromisoformat(renewed["expires_at"]) > datetime.now(UTC)
    assert renewed["client_id"] == CLIENT_ID
    form = parse_qs(fake.server.requests_for("oauth2Token")[-1].body.decode())
    assert form == {"grant_type": ["refresh_token"], "refresh_token": [first["refresh_token"]]}
    # The new token works; the old refresh token is spent.
    assert make_connector(fake, token=renewed["access_token"]).verify_account().external_id == fake.me_id
    with pytest.raises(AuthenticationFailed):
        connector.refresh_credentials()


@pytest.mark.django_db
def test_refresh_without_offline_access(fake: FakeX) -> None:
    with pytest.raises(AuthenticationFailed):
        make_connector(fake).refresh_credentials()
    assert fake.server.requests == []
