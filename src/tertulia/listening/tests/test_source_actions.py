"""Adding a source: the address someone typed is checked before anything is stored, and a malformed
one is a clear refusal on the `url` field (never a 500), in the action, the web view and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tertulia.api.actions import create_token
from tertulia.api.scopes import allowed_scopes
from tertulia.api.tests.conftest import Api
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Organization, User
from tertulia.core.permissions import membership, permissions_of
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.actions.sources import add_source
from tertulia.listening.models import ListeningSource
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

NOT_AN_ADDRESS = "starts with https://"
CREDENTIALS = "Leave the user name and password out of the address."

MALFORMED = [
    "http://[::1",  # an unclosed IPv6 host: urlsplit raises
    "http://[abc]/",  # brackets around something that is not an IPv6 address
    "https://example.com:99999/feed",  # a port out of range
    "https://example.com:-1/feed",
    "https://example.com:http/feed",  # not a number
    "https://example.com:0/feed",
    "javascript:alert(1)",
    "",
    "https://" + "a" * 500 + ".example/",
]
WITH_CREDENTIALS = [
    "https://ana:secreto@example.com/feed.xml",
    "https://ana@mastodon.example",
    "https://:secreto@example.com/",
    "https://@example.com/",
]


@pytest.mark.parametrize("url", MALFORMED)
@pytest.mark.parametrize("kind", ["feed", "mastodon_public"])
def test_a_malformed_address_is_refused(org: Organization, analyst: User, url: str, kind: str):
    with pytest.raises(ListeningRefused) as refused:
        add_source(Actor(user=analyst, via="web"), org, kind=kind, url=url)
    assert refused.value.field == "url" and NOT_AN_ADDRESS in refused.value.message
    assert not ListeningSource.objects.exists()
    assert not AuditEntry.objects.filter(action="listening.source_added").exists()


@pytest.mark.parametrize("url", WITH_CREDENTIALS)
@pytest.mark.parametrize("kind", ["feed", "mastodon_hashtag"])
def test_an_address_with_a_user_name_or_password_is_refused(
    org: Organization, analyst: User, url: str, kind: str
):
    with pytest.raises(ListeningRefused) as refused:
        add_source(Actor(user=analyst, via="web"), org, kind=kind, url=url, hashtag="vino")
    assert refused.value.field == "url" and refused.value.message == CREDENTIALS
    assert not ListeningSource.objects.exists()
    assert not AuditEntry.objects.filter(action="listening.source_added").exists()  # never stored


@pytest.mark.parametrize(
    ("url", "kind", "stored"),
    [
        ("https://example.com:8443/feed.xml", "feed", "https://example.com:8443/feed.xml"),
        ("http://[2001:db8::1]:8080/rss", "feed", "http://[2001:db8::1]:8080/rss"),
        ("https://mastodon.example/@ana?x=a@b", "mastodon_public", "https://mastodon.example"),
        (
            "  https://example.com/feed?author=ana@example.com  ",
            "feed",
            "https://example.com/feed?author=ana@example.com",
        ),
    ],
)
def test_good_addresses_are_kept(org: Organization, analyst: User, url: str, kind: str, stored: str):
    source = add_source(Actor(user=analyst, via="web"), org, kind=kind, url=url)
    assert source.url == stored


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://[::1", NOT_AN_ADDRESS), ("https://ana:secreto@example.com/feed.xml", CREDENTIALS)],
)
def test_the_web_view_refuses_with_the_message(org: Organization, analyst: User, url: str, message: str):
    response = signed_in(analyst).post(reverse("web:listen-sources"), {"kind": "feed", "url": url})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="source-url-error"' in body and message in body
    assert "secreto" not in body.replace('value="https://ana:secreto@example.com/feed.xml"', "")
    assert not ListeningSource.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[abc]/", NOT_AN_ADDRESS),
        ("https://example.com:99999/", NOT_AN_ADDRESS),
        ("https://ana:secreto@mastodon.example", CREDENTIALS),
    ],
)
def test_the_api_refuses_with_the_message(org: Organization, analyst: User, url: str, message: str):
    scopes = allowed_scopes(permissions_of(membership(analyst, org)))
    _token, token = create_token(Actor.system("tests"), analyst, org, "test", scopes)
    response = Api().post("/listening/sources", token, {"kind": "mastodon_public", "url": url})
    assert response.status == 422, response
    [error] = response.body["errors"]
    assert error["loc"] == ["body", "url"] and message in error["msg"]
    assert "secreto" not in str(response.body)
    assert not ListeningSource.objects.exists()
