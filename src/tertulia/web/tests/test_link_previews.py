"""The composer's link cards on the web: loaded lazily, fetched by the server, escaped, per organization."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from io import BytesIO
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image

from tertulia.core import ratelimit
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.core.tests.outbound_server import Site
from tertulia.web.tests.helpers import signed_in
from tertulia.web.views import link_previews

pytestmark = pytest.mark.django_db

HOSTILE_TITLE = "<script>alert(1)</script>\u202eevil\u200b <img src=x onerror=alert(2)> مرحبا"


@pytest.fixture(autouse=True)
def _fast(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def site(settings) -> Iterator[Site]:
    with Site().running() as running:
        settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{running.port}"
        out = BytesIO()
        Image.new("RGB", (1200, 630), (30, 90, 160)).save(out, format="PNG")
        running.route("/card.png", out.getvalue(), headers={"Content-Type": "image/png"})
        title = html.escape(HOSTILE_TITLE, quote=True)
        running.route(
            "/article",
            f'<html><head><meta property="og:title" content="{title}">'
            '<meta property="og:image" content="/card.png">'
            '<meta property="og:site_name" content="Noticias"></head><body></body></html>',
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        yield running


@pytest.fixture
def people():
    org = make_org("Café")
    brand = make_brand(org, "Café")
    cm = make_member(org, Role.COMMUNITY_MANAGER)
    analyst = make_member(org, Role.ANALYST)
    channel = connect_channel(Actor.system(), brand, "sandbox", "@cafe", "Café")
    set_channel_operators(Actor.system(), channel, [cm])
    other = make_org("Otra")
    stranger = make_member(other, Role.COMMUNITY_MANAGER)
    return {
        "org": org,
        "brand": brand,
        "cm": cm,
        "analyst": analyst,
        "channel": channel,
        "stranger": stranger,
    }


def preview(client, url: str):
    return client.get(reverse("web:link-preview") + "?url=" + quote(url, safe=""))


def test_the_composer_defers_the_card_to_a_lazy_request(people):
    client = signed_in(people["cm"])
    response = client.post(
        reverse("web:compose-check"),
        {
            "brand": people["brand"].pk,
            "text": "Mira https://example.com/a?utm_source=x",
            "channels": [people["channel"].pk],
        },
    )
    body = response.content.decode()
    assert 'hx-trigger="load"' in body
    found = re.search(r'hx-get="([^"]+)"', body)
    assert found is not None
    assert html.unescape(found.group(1)) == reverse("web:link-preview") + "?url=" + quote(
        "https://example.com/a", safe=""
    )


def test_the_card_is_fetched_escaped_and_its_image_served_from_here(people, site):
    client = signed_in(people["cm"])
    response = preview(client, site.url + "/article")
    body = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "\u202e" not in body and "\u200b" not in body and "مرحبا" in body
    assert 'dir="auto"' in body and "Noticias" in body
    image_url = re.search(r'<img class="link-card-image" src="([^"]+)"', body)
    assert image_url is not None and image_url.group(1).startswith("/publish/link-preview/image/")
    assert site.url not in body.split("link-card-body")[0]  # the image is not hot-linked
    picture = client.get(image_url.group(1))
    assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
    # Cached: asking again fetches nothing.
    before = len(site.requests)
    assert "Noticias" in preview(client, site.url + "/article").content.decode()
    assert len(site.requests) == before
    # Another organization gets neither the image nor this organization's card.
    assert signed_in(people["stranger"]).get(image_url.group(1)).status_code == 404


def test_refused_addresses_and_failures_say_no_preview(people, site, settings):
    client = signed_in(people["cm"])
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:1/",
        "javascript:alert(1)",
        site.url + "/gone",
    ):
        body = preview(client, url).content.decode()
        assert "No preview for this link." in body
    assert site.seen("/gone") and len(site.requests) == 1  # only the allowed one was asked


def test_only_people_who_write_posts_can_make_tertulia_fetch(people, site):
    assert preview(signed_in(people["analyst"]), site.url + "/article").status_code == 403
    assert site.requests == []
    assert preview(signed_in(people["cm"]), site.url + "/article").status_code == 200


def test_fetches_per_person_are_limited(people, site, monkeypatch):
    cache.clear()
    monkeypatch.setattr(ratelimit, "current_minute", lambda: "202611221200")  # no minute ends mid-test
    monkeypatch.setattr(link_previews, "FETCHES_PER_MINUTE", 2)
    client = signed_in(people["cm"])
    for n in range(2):
        assert "No preview for this link." in preview(client, f"{site.url}/missing{n}").content.decode()
    assert "too many links" in preview(client, site.url + "/article").content.decode()
    assert not site.seen("/article")


def test_a_fetch_in_progress_answers_loading(people, site):
    from tertulia.publishing import previews

    url = site.url + "/article"
    assert previews.claim_fetch(people["org"].pk, url)
    body = preview(signed_in(people["cm"]), url).content.decode()
    assert "Loading the link preview" in body and "try=1" in body
    assert site.requests == []
