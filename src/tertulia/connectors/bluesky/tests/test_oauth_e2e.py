"""atproto OAuth end to end against the reference PDS and its @atproto/oauth-provider.

Nobody clicks: Debian's chromium (driven by Playwright) signs in on the PDS's own
authorization page and approves; the redirect back is read from the browser's request
(the loopback redirect address is never served). Then Tertulia exchanges the code, uses
the DPoP-bound session to publish, read and reply, and refreshes it. Skips without
chromium or Playwright, besides the devnet's own reasons.
"""

from __future__ import annotations

import secrets
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from atproto_client import models
from django.urls import reverse

from tertulia.connectors.base import (
    AuthenticationFailed,
    ChannelAccount,
    ConnectedAccount,
    ConnectorError,
    InboundKind,
    OAuthClient,
    OutgoingPost,
)
from tertulia.connectors.bluesky import oauth
from tertulia.connectors.bluesky.connector import BlueskyConnector
from tertulia.connectors.bluesky.records import jwt_claims
from tertulia.connectors.bluesky.tests.conftest import PASSWORD, Account, Devnet
from tertulia.connectors.models import PendingAuthorization
from tertulia.connectors.registry import open_connector
from tertulia.core.models import Channel, User
from tertulia.core.tests.factories import make_brand, make_org, make_user
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db  # the write budget lives in the database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")


@pytest.fixture(autouse=True)
def _private_addresses_allowed(settings: Any) -> None:
    # The reference network listens on 127.0.0.1, which discovery refuses by default (SSRF).
    settings.TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def plc(devnet: Devnet, settings: Any) -> None:
    """DIDs resolve on the reference network's PLC directory, not plc.directory."""
    settings.TERTULIA_BLUESKY_PLC_URL = devnet.urls["plc"]


def _approve_in_chromium(authorization_url: str, account: Account, redirect_uri: str) -> dict[str, str]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(authorization_url)
            page.get_by_role("button", name="Sign in").click()
            page.locator("input[name=username]").fill(account.handle)
            page.locator("input[name=password]").fill(PASSWORD)
            page.locator("button[type=submit]").click()
            with page.expect_request(lambda request: request.url.startswith(redirect_uri)) as returned:
                page.get_by_role("button", name="Authorize").click()
            query = parse_qs(urlsplit(returned.value.url).query)
        finally:
            browser.close()
    return {name: values[0] for name, values in query.items()}


def approve(authorization_url: str, account: Account, redirect_uri: str) -> dict[str, str]:
    """Sign in on the PDS's authorization page and approve; the query Tertulia is sent back with.

    In a thread of its own: Playwright's sync API runs an event loop, where Django refuses
    database calls.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_approve_in_chromium, authorization_url, account, redirect_uri).result()


def sign_in(devnet: Devnet, account: Account) -> tuple[ConnectedAccount, str, str]:
    """authorization_url → the person approves → complete_authorization; (account, code, verifier)."""
    redirect_uri = f"http://127.0.0.1:{_unused_port()}/settings/channels/callback/"
    client = OAuthClient(client_id="", base_url=devnet.pds)
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(72)
    url = BlueskyConnector.authorization_url(client, redirect_uri, state, verifier)
    assert "request_uri=" in url and "code_challenge" not in url  # pushed: only the PAR reference travels
    returned = approve(url, account, redirect_uri)
    assert returned["state"] == state
    assert returned["iss"].rstrip("/") == oauth.discover(devnet.pds).server.issuer  # RFC 9207
    connected = BlueskyConnector.complete_authorization(
        client, redirect_uri, returned["code"], verifier, issuer=returned["iss"]
    )
    return connected, returned["code"], verifier


def test_oauth_session_publishes_reads_replies_and_refreshes(devnet, plc, browser) -> None:
    brand_account = devnet.create_account("marca")
    customer = devnet.create_account("clienta")
    connected, _code, _verifier = sign_in(devnet, brand_account)

    assert connected.info.external_id == brand_account.did
    assert connected.info.handle == brand_account.handle
    credentials = dict(connected.credentials)
    assert credentials["auth"] == "oauth"
    assert PASSWORD not in "".join(credentials.values())
    assert credentials["service"].endswith(devnet.pds.rsplit(":", 1)[1])  # the PDS from the DID document
    assert connected.expires_at is not None
    # The access token is bound to the session's DPoP key (RFC 9449 cnf.jkt).
    key = oauth.DPoPKey.from_jwk(credentials["dpop_key"])
    assert jwt_claims(credentials["access_token"])["cnf"]["jkt"] == key.thumbprint()

    # The same token without its DPoP proof is worth nothing.
    stolen = BlueskyConnector(
        ChannelAccount(
            handle="x",
            external_id=brand_account.did,
            credentials={
                "access_jwt": credentials["access_token"],
                "did": brand_account.did,
                "refresh_jwt": "",
                "service": credentials["service"],
            },
        )
    )
    with pytest.raises(AuthenticationFailed):
        stolen.verify_account()

    brand = BlueskyConnector(
        ChannelAccount(handle=connected.info.handle, external_id=brand_account.did, credentials=credentials)
    )
    published = brand.publish(OutgoingPost(text="Abrimos el domingo #horario", idempotency_key=uuid_key()))
    customer_post = customer.post(f"@{brand_account.handle} ¿y el lunes?")
    devnet.process_all()
    seen = customer.client.app.bsky.feed.get_posts(
        models.AppBskyFeedGetPosts.Params(uris=[published.remote_id])
    ).posts
    assert [post.record.text for post in seen] == ["Abrimos el domingo #horario"]

    page = brand.fetch_inbound(None)
    mentions = [item for item in page.items if item.remote_id == customer_post.uri]
    assert [item.kind for item in mentions] == [InboundKind.MENTION]
    answer = brand.publish(OutgoingPost(text="El lunes también.", reply_to=customer_post.uri))
    devnet.process_all()
    [answer_view] = customer.client.app.bsky.feed.get_posts(
        models.AppBskyFeedGetPosts.Params(uris=[answer.remote_id])
    ).posts
    assert answer_view.record.reply.parent.uri == customer_post.uri

    fresh = brand.refresh_credentials()
    assert fresh["auth"] == "oauth"
    assert fresh["access_token"] != credentials["access_token"]
    assert fresh["refresh_token"] != credentials["refresh_token"]
    assert fresh["dpop_key"] == credentials["dpop_key"]  # the session keeps its key
    assert brand.verify_account().external_id == brand_account.did  # the connector now uses the new session
    renewed = BlueskyConnector(ChannelAccount(handle="x", external_id=brand_account.did, credentials=fresh))
    assert renewed.account_metrics().posts >= 2

    # The old refresh token was used up by the rotation.
    old = BlueskyConnector(ChannelAccount(handle="x", external_id=brand_account.did, credentials=credentials))
    with pytest.raises(AuthenticationFailed):
        old.refresh_credentials()


def uuid_key() -> str:
    return secrets.token_hex(8)


def test_a_code_works_once_and_only_with_its_verifier(devnet, plc, browser) -> None:
    account = devnet.create_account("otra")
    client = OAuthClient(client_id="", base_url=devnet.pds)
    _connected, code, verifier = sign_in(devnet, account)
    redirect_uri = "http://127.0.0.1:1/never"
    issuer = oauth.discover(devnet.pds).server.issuer
    with pytest.raises(ConnectorError):  # replayed (and another redirect address)
        BlueskyConnector.complete_authorization(client, redirect_uri, code, verifier, issuer=issuer)

    redirect_uri = f"http://127.0.0.1:{_unused_port()}/cb"
    state, right = secrets.token_urlsafe(32), secrets.token_urlsafe(72)
    url = BlueskyConnector.authorization_url(client, redirect_uri, state, right)
    returned = approve(url, account, redirect_uri)
    with pytest.raises(AuthenticationFailed):  # no `iss`: refused before the code is spent...
        BlueskyConnector.complete_authorization(client, redirect_uri, returned["code"], right)
    with pytest.raises(ConnectorError):  # PKCE: a verifier that is not the challenge's
        BlueskyConnector.complete_authorization(
            client, redirect_uri, returned["code"], secrets.token_urlsafe(72), issuer=issuer
        )


def test_connect_with_oauth_from_settings(devnet, plc, browser, settings) -> None:
    """The web flow: the OAuth form of a network that also takes app passwords, state kept in the database."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    owner: User = make_user()
    brand = make_brand(make_org(owner=owner), "Marca OAuth")
    account = devnet.create_account("web")
    client = signed_in(owner)
    host = f"127.0.0.1:{_unused_port()}"

    page = client.get(reverse("web:channels"), HTTP_HOST=host).content.decode()
    assert 'name="method" value="oauth"' in page and 'name="method" value="password"' in page

    started = client.post(
        reverse("web:channel-connect"),
        {"network": "bluesky", "method": "oauth", "server": devnet.pds},
        HTTP_HOST=host,
    )
    assert started.status_code == 302, started.content
    redirect_uri = f"http://{host}{reverse('web:channel-callback')}"
    returned = approve(started["Location"], account, redirect_uri)
    assert PendingAuthorization.objects.filter(state=returned["state"]).exists()

    finished = client.get(
        reverse("web:channel-callback"),
        {"state": returned["state"], "code": returned["code"], "iss": returned["iss"]},
        HTTP_HOST=host,
    )
    assert finished.status_code == 302
    channel = Channel.objects.get(network="bluesky", brand=brand)
    assert channel.external_id == account.did
    assert not PendingAuthorization.objects.filter(state=returned["state"]).exists()
    with open_connector(channel) as connector:
        assert connector.account.credentials["auth"] == "oauth"
        assert connector.verify_account().handle == account.handle


def test_a_handle_leads_to_its_authorization_server(devnet, plc, settings) -> None:
    settings.TERTULIA_BLUESKY_HANDLE_RESOLVER = devnet.pds
    account = devnet.create_account("mano")
    by_handle = oauth.discover(f"@{account.handle}")
    by_server = oauth.discover(devnet.pds)
    assert by_handle.did == account.did
    assert by_handle.login_hint == account.handle
    assert by_handle.server == by_server.server
    with pytest.raises(AuthenticationFailed):
        oauth.discover("nadie-aqui.test")
