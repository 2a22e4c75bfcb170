"""Settings → Channels with Mastodon: type the instance, Tertulia registers itself there, sign in.

The instance is the spec-validated fake from `connectors/mastodon/tests` on 127.0.0.1:
every request Tertulia makes to it (registration, authorization, token, account)
is checked against Mastodon's official OpenAPI document.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import reverse

from tertulia.connectors.mastodon.connector import SCOPES
from tertulia.connectors.mastodon.tests.conftest import fixtures, mastodon, server, spec
from tertulia.connectors.models import PendingAuthorization
from tertulia.connectors.testing.spec_server import SpecResponse
from tertulia.core.models import Channel, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.vault.actions import unlocked
from tertulia.vault.models import NetworkApp
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db
__all__ = ["fixtures", "mastodon", "server", "spec"]  # the fake instance's fixtures, used by name

CALLBACK = "http://testserver" + reverse("web:channel-callback")


@pytest.fixture(autouse=True)
def _instance_on_loopback(settings) -> None:
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = True  # the fake listens on 127.0.0.1


@pytest.fixture
def manager():
    org = make_org()
    return make_brand(org, "Marca"), signed_in(make_member(org, Role.BRAND_MANAGER))


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_form_asks_for_the_instance(manager):
    _brand, browser = manager
    page = browser.get(reverse("web:channels")).content.decode()
    form = page[page.index('id="connect-form-mastodon"') :]
    form = form[: form.index("</form>")]
    assert (
        'name="server" type="text"' in form and "required" in form and 'placeholder="mastodon.social"' in form
    )


def test_signing_in_on_a_new_instance_registers_and_connects(manager, server, mastodon):
    brand, browser = manager
    start = browser.post(reverse("web:channel-connect"), {"network": "mastodon", "server": f"{server.url}/"})
    assert start.status_code == 302
    location = start["Location"]
    assert location.startswith(f"{server.url}/oauth/authorize?")
    # Registered once, for the callback this sign-in uses, and kept sealed in the vault.
    [registration] = server.requests_for("createApp")
    assert registration.json()["redirect_uris"] == [CALLBACK]
    app = NetworkApp.objects.get(network="mastodon", base_url=server.url)
    assert app.redirect_uri == CALLBACK and app.client_id in mastodon.apps
    assert mastodon.apps[app.client_id]["client_secret"].encode() not in bytes(app.ciphertext)
    # PKCE S256 and a state only this sign-in has.
    query = _query(location)
    pending = PendingAuthorization.objects.get(state=query["state"])
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.code_verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == challenge.decode() and query["code_challenge_method"] == "S256"
    assert (query["client_id"], query["redirect_uri"], query["scope"]) == (app.client_id, CALLBACK, SCOPES)
    # The person approves on the instance, which sends the browser back to Tertulia.
    assert httpx.get(location).status_code == 200
    back = urlsplit(mastodon.approvals[-1])
    done = browser.get(back.path, _query(mastodon.approvals[-1]))
    assert done.status_code == 302 and done["Location"] == reverse("web:channels")
    channel = Channel.objects.get(network="mastodon", brand=brand)
    assert channel.settings["base_url"] == server.url
    with unlocked(channel) as secrets:
        assert secrets["access_token"]


def test_the_next_person_on_that_instance_reuses_the_registration(manager, server, mastodon):
    _brand, browser = manager
    first = browser.post(reverse("web:channel-connect"), {"network": "mastodon", "server": server.url})
    other_org = make_org()
    make_brand(other_org, "Otra")
    stranger = signed_in(make_member(other_org, Role.BRAND_MANAGER))
    second = stranger.post(reverse("web:channel-connect"), {"network": "mastodon", "server": server.url})
    assert _query(first["Location"])["client_id"] == _query(second["Location"])["client_id"]
    assert len(server.requests_for("createApp")) == 1 and NetworkApp.objects.count() == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the Mastodon server&#x27;s address"),
        ("ftp://mastodon.social", "starts with https://"),
        ("@marca@mastodon.social", "without an account name"),
        ("http://127.0.0.1:9", "Could not reach http://127.0.0.1:9"),
    ],
)
def test_a_bad_or_unreachable_instance_is_explained(manager, typed, message):
    _brand, browser = manager
    response = browser.post(
        reverse("web:channel-connect"), {"network": "mastodon", "server": typed}, follow=True
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NetworkApp.objects.exists() and not PendingAuthorization.objects.exists()


def test_a_server_that_is_not_mastodon_is_explained(manager, server):
    _brand, browser = manager
    server.on("createApp", SpecResponse(status=200, body=b"<html>A blog</html>", content_type="text/html"))
    response = browser.post(
        reverse("web:channel-connect"), {"network": "mastodon", "server": server.url}, follow=True
    )
    assert "does not answer as a Mastodon instance does" in response.content.decode()
    assert not NetworkApp.objects.exists()
