"""Facebook Login: the authorization URL and the three token exchanges, against the fake Graph API."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from tertulia.connectors.base import AuthenticationFailed, OAuthClient
from tertulia.connectors.meta.connector import FacebookPageConnector, InstagramConnector
from tertulia.connectors.meta.oauth import FACEBOOK_SCOPES
from tertulia.connectors.meta.tests.fake_graph import APP_ID, APP_SECRET, CODE, IG_ID, PAGE_ID
from tertulia.connectors.signin import SignIn, sign_in_method

VERIFIER = "v" * 64


def test_authorization_url_uses_pkce_s256() -> None:
    client = OAuthClient(client_id=APP_ID, client_secret=APP_SECRET)
    url = FacebookPageConnector.authorization_url(client, "https://t.example/cb/", "state-1", VERIFIER)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.facebook.com", "/v21.0/dialog/oauth")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    expected = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    assert query == {
        "client_id": APP_ID,
        "redirect_uri": "https://t.example/cb/",
        "state": "state-1",
        "response_type": "code",
        "scope": ",".join(FACEBOOK_SCOPES),
        "code_challenge": expected,
        "code_challenge_method": "S256",
    }
    assert APP_SECRET not in url and VERIFIER not in url
    ig_url = InstagramConnector.authorization_url(client, "https://t.example/cb/", "s", VERIFIER)
    assert "instagram_content_publish" in parse_qs(urlsplit(ig_url).query)["scope"][0]
    assert sign_in_method(FacebookPageConnector) is SignIn.OAUTH
    assert sign_in_method(InstagramConnector) is SignIn.OAUTH


def test_code_to_page_token_for_facebook(graph) -> None:
    graph.expected_verifier = VERIFIER
    client = OAuthClient(client_id=APP_ID, client_secret=APP_SECRET, base_url=graph.url)
    connected = FacebookPageConnector.complete_authorization(client, graph.redirect_uri, CODE, VERIFIER)
    assert connected.info.external_id == PAGE_ID and connected.info.handle == "casatertulia"
    assert connected.credentials["access_token"] == "PAGE-TOKEN"
    assert connected.credentials["page_id"] == PAGE_ID
    assert APP_SECRET not in connected.credentials.values()  # the app secret is never stored
    assert "LONG-LIVED-USER-TOKEN" not in connected.credentials.values()
    assert connected.expires_at is None
    exchanges = graph.calls("GET", "oauth/access_token")
    assert [e.params.get("grant_type") for e in exchanges] == [None, "fb_exchange_token"]
    assert exchanges[0].params["code_verifier"] == VERIFIER
    assert "authorization" not in exchanges[0].headers


def test_code_to_instagram_account(graph) -> None:
    graph.expected_verifier = VERIFIER
    client = OAuthClient(client_id=APP_ID, client_secret=APP_SECRET, base_url=graph.url)
    connected = InstagramConnector.complete_authorization(client, graph.redirect_uri, CODE, VERIFIER)
    assert (connected.info.external_id, connected.info.handle) == (IG_ID, "casa.tertulia")
    assert connected.credentials == {
        "access_token": "PAGE-TOKEN",
        "page_id": PAGE_ID,
        "ig_user_id": IG_ID,
        "base_url": graph.url,
    }


@pytest.mark.parametrize(
    ("code", "verifier", "secret"),
    [("stale-code", VERIFIER, APP_SECRET), (CODE, "w" * 64, APP_SECRET), (CODE, VERIFIER, "wrong")],
)
def test_refused_exchanges(graph, code, verifier, secret) -> None:
    graph.expected_verifier = VERIFIER
    client = OAuthClient(client_id=APP_ID, client_secret=secret, base_url=graph.url)
    with pytest.raises(AuthenticationFailed):
        FacebookPageConnector.complete_authorization(client, graph.redirect_uri, code, verifier)
    assert not graph.calls("GET", "me/accounts")


def test_no_page_with_instagram(graph) -> None:
    from tertulia.connectors.meta import oauth

    page = oauth.ManagedPage("200", "Otra", "", "T", None)
    with pytest.raises(AuthenticationFailed):
        InstagramConnector.choose_account([page], "")
    with pytest.raises(AuthenticationFailed):
        FacebookPageConnector.choose_account([], "")
