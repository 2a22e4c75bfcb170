"""Listen → Sources: the organization's feeds and Mastodon streams; channels and the firehose always count."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.listening.actions.sources import add_source
from tertulia.listening.models import ListeningSource
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Organization:
    organization = make_org("Escucha SA")
    make_brand(organization, "Bodega Demo")
    return organization


@pytest.fixture
def analyst(org: Organization) -> User:
    return make_member(org, Role.ANALYST)


@pytest.fixture
def viewer(org: Organization) -> User:
    return make_member(org, Role.CONTRIBUTOR)


def feed(org: Organization, url: str = "https://example.com/feed.xml", **extra: str) -> ListeningSource:
    return add_source(Actor.system(), org, kind="feed", url=url, **extra)


def test_the_page_lists_sources_and_what_always_counts(org, analyst, settings):
    settings.TERTULIA_FIREHOSE_URL = ""
    source = feed(org, name="Blog del vino")
    source.last_error = "<b>HTTP 500</b>"
    source.save()
    body = signed_in(analyst).get(reverse("web:listen-sources")).content.decode()
    assert "Blog del vino" in body and "https://example.com/feed.xml" in body
    assert "&lt;b&gt;HTTP 500&lt;/b&gt;" in body
    assert "Connected channels" in body
    assert "Bluesky firehose" in body and "has not switched it on" in body
    assert reverse("web:listen-source-remove", args=[source.pk]) in body


def test_the_firehose_is_said_to_be_on_when_configured(org, analyst, settings):
    settings.TERTULIA_FIREHOSE_URL = "wss://bsky.network"
    body = signed_in(analyst).get(reverse("web:listen-sources")).content.decode()
    assert "every public Bluesky post is matched" in body


def test_a_feed_and_a_hashtag_stream_are_added(org, analyst):
    client = signed_in(analyst)
    response = client.post(
        reverse("web:listen-sources"), {"kind": "feed", "url": "https://example.com/rss", "name": ""}
    )
    assert response.status_code == 302
    response = client.post(
        reverse("web:listen-sources"),
        {"kind": "mastodon_hashtag", "url": "https://mastodon.social/@someone", "hashtag": "#vino"},
    )
    assert response.status_code == 302
    hashtag = ListeningSource.objects.get(kind="mastodon_hashtag")
    assert (hashtag.url, hashtag.hashtag, hashtag.organization) == ("https://mastodon.social", "vino", org)
    assert ListeningSource.objects.count() == 2


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"kind": "feed", "url": "javascript:alert(1)"}, "source-url-error", "starts with https://"),
        ({"kind": "feed", "url": ""}, "source-url-error", "starts with https://"),
        (
            {"kind": "mastodon_hashtag", "url": "https://mastodon.social", "hashtag": "<script>"},
            "source-hashtag-error",
            "letters and digits only",
        ),
        ({"kind": "gopher", "url": "https://example.com"}, "source-kind-error", "Choose a kind"),
        ({"kind": "feed", "url": "https://example.com/\x00"}, "source-url-error", "Null characters"),
    ],
)
def test_bad_sources_are_refused_on_their_field(org, analyst, values, field, message):
    response = signed_in(analyst).post(reverse("web:listen-sources"), values)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="{field}"' in body
    assert message in body
    assert "<script>" not in body
    assert not ListeningSource.objects.exists()


def test_the_same_source_twice_is_refused(org, analyst):
    feed(org)
    response = signed_in(analyst).post(
        reverse("web:listen-sources"), {"kind": "feed", "url": "https://example.com/feed.xml"}
    )
    assert response.status_code == 400
    assert "already there" in response.content.decode()


def test_pause_resume_and_remove(org, analyst):
    source = feed(org)
    client = signed_in(analyst)
    client.post(reverse("web:listen-source-active", args=[source.pk]), {"active": "0"})
    source.refresh_from_db()
    assert source.is_active is False
    assert "Resume" in client.get(reverse("web:listen-sources")).content.decode()
    client.post(reverse("web:listen-source-active", args=[source.pk]), {"active": "1"})
    source.refresh_from_db()
    assert source.is_active is True
    assert client.post(reverse("web:listen-source-remove", args=[source.pk])).status_code == 302
    assert not ListeningSource.objects.exists()


def test_viewers_see_but_do_not_change(org, viewer):
    source = feed(org)
    client = signed_in(viewer)
    body = client.get(reverse("web:listen-sources")).content.decode()
    assert "example.com/feed.xml" in body
    assert reverse("web:listen-source-remove", args=[source.pk]) not in body
    assert 'name="url"' not in body
    assert (
        client.post(reverse("web:listen-sources"), {"kind": "feed", "url": "https://x.example"}).status_code
        == 403
    )
    assert (
        client.post(reverse("web:listen-source-active", args=[source.pk]), {"active": "0"}).status_code == 403
    )
    assert client.post(reverse("web:listen-source-remove", args=[source.pk])).status_code == 403
    source.refresh_from_db()
    assert source.is_active is True


def test_another_organizations_sources_are_neither_shown_nor_touched(org, analyst):
    theirs = feed(make_org("Otra SA"), url="https://otra.example/feed")
    client = signed_in(analyst)
    assert "otra.example" not in client.get(reverse("web:listen-sources")).content.decode()
    assert (
        client.post(reverse("web:listen-source-active", args=[theirs.pk]), {"active": "0"}).status_code == 404
    )
    assert client.post(reverse("web:listen-source-remove", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active is True


def test_source_changes_need_a_csrf_token(org, analyst):
    source = feed(org)
    client = Client(enforce_csrf_checks=True)
    client.force_login(analyst)
    assert client.post(reverse("web:listen-source-remove", args=[source.pk])).status_code == 403
    assert ListeningSource.objects.exists()


def test_signed_out_people_are_sent_to_sign_in():
    response = Client().get(reverse("web:listen-sources"))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]
