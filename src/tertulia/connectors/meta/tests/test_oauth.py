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
    exchanges = graph.calls("POST", "oauth/access_token")
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


def _page_row(page_id: str, name: str, username: str = "", instagram: dict[str, str] | None = None) -> dict:
    row: dict[str, object] = {
        "id": page_id,
        "name": name,
        "access_token": f"TOKEN-{page_id}",
        "category": "Restaurant",
        "tasks": ["MODERATE", "CREATE_CONTENT", "MANAGE"],
    }
    if username:
        row["username"] = username
    if instagram is not None:
        row["instagram_business_account"] = instagram
    return row


def _sign_in(graph, connector):
    graph.expected_verifier = VERIFIER
    client = OAuthClient(client_id=APP_ID, client_secret=APP_SECRET, base_url=graph.url)
    return connector.complete_authorization(client, graph.redirect_uri, CODE, VERIFIER)


def test_facebook_offers_every_page_in_graph_order(graph) -> None:
    graph.managed = [
        _page_row("301", "Casa Tertulia", "casatertulia"),
        _page_row("302", "Tertulia Norte", "tertulianorte"),
        _page_row("303", "Tertulia Sur"),  # no username: the name is the handle
    ]
    connected = _sign_in(graph, FacebookPageConnector)
    offered = [connected, *connected.alternatives]
    assert [(a.info.external_id, a.info.handle, a.info.display_name) for a in offered] == [
        ("301", "casatertulia", "Casa Tertulia"),
        ("302", "tertulianorte", "Tertulia Norte"),
        ("303", "Tertulia Sur", "Tertulia Sur"),
    ]
    for account, page_id in zip(offered, ("301", "302", "303"), strict=True):
        assert account.credentials == {
            "access_token": f"TOKEN-{page_id}",
            "page_id": page_id,
            "base_url": graph.url,
        }
        assert account.expires_at is None
    assert all(alternative.alternatives == () for alternative in connected.alternatives)


def test_facebook_with_one_page_offers_no_alternatives(graph) -> None:
    graph.managed = [_page_row("301", "Casa Tertulia", "casatertulia")]
    connected = _sign_in(graph, FacebookPageConnector)
    assert connected.info.external_id == "301" and connected.alternatives == ()


def test_facebook_with_the_documented_two_pages(graph) -> None:
    connected = _sign_in(graph, FacebookPageConnector)
    assert connected.info.external_id == PAGE_ID
    [other] = connected.alternatives
    assert (other.info.external_id, other.info.handle) == ("200", "Otra Página")
    assert other.credentials["access_token"] == "OTHER-PAGE-TOKEN" and other.credentials["page_id"] == "200"


def test_every_page_of_me_accounts_is_read(graph) -> None:
    graph.managed = [_page_row(str(n), f"Página {n}") for n in range(401, 406)]
    graph.managed_page_size = 2
    connected = _sign_in(graph, FacebookPageConnector)
    assert [a.info.external_id for a in (connected, *connected.alternatives)] == [
        "401",
        "402",
        "403",
        "404",
        "405",
    ]
    calls = graph.calls("GET", "me/accounts")
    assert [c.params.get("after") for c in calls] == [None, "2", "4"]


def test_instagram_offers_the_accounts_of_every_linked_page(graph) -> None:
    graph.managed = [
        _page_row("301", "Sin Instagram"),
        _page_row("302", "Casa Tertulia", "casatertulia", {"id": "1784001", "username": "casa.tertulia"}),
        _page_row("303", "Otra sin Instagram"),
        _page_row(
            "304", "Tertulia Norte", "", {"id": "1784002", "username": "tertulia.norte", "name": "Norte"}
        ),
        _page_row("305", "Tertulia Sur", "", {"id": "1784003", "username": "tertulia.sur", "name": "Sur"}),
    ]
    connected = _sign_in(graph, InstagramConnector)
    offered = [connected, *connected.alternatives]
    assert [(a.info.external_id, a.info.handle, a.info.display_name) for a in offered] == [
        ("1784001", "casa.tertulia", "casa.tertulia"),
        ("1784002", "tertulia.norte", "Norte"),
        ("1784003", "tertulia.sur", "Sur"),
    ]
    for account, (page_id, ig_id) in zip(
        offered, (("302", "1784001"), ("304", "1784002"), ("305", "1784003")), strict=True
    ):
        assert account.credentials == {
            "access_token": f"TOKEN-{page_id}",
            "page_id": page_id,
            "ig_user_id": ig_id,
            "base_url": graph.url,
        }
    assert all(alternative.alternatives == () for alternative in connected.alternatives)


def test_instagram_with_one_linked_page_offers_no_alternatives(graph) -> None:
    # The documented fixture: two Pages, only the first with an Instagram account.
    connected = _sign_in(graph, InstagramConnector)
    assert connected.info.external_id == IG_ID and connected.alternatives == ()


def test_a_login_without_pages_is_refused(graph) -> None:
    graph.managed = []
    with pytest.raises(AuthenticationFailed):
        _sign_in(graph, FacebookPageConnector)
    graph.managed = [_page_row("301", "Sin Instagram")]
    with pytest.raises(AuthenticationFailed):
        _sign_in(graph, InstagramConnector)
