"""Settings > Webhooks on the web: owners and administrators only, the secret shown once, a test button."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from django.urls import reverse

from tertulia.core.models import AuditEntry, Membership, Role
from tertulia.core.tests.factories import make_member, make_org
from tertulia.core.tests.outbound_server import Site
from tertulia.web.tests.helpers import signed_in
from tertulia.webhooks import signing
from tertulia.webhooks.models import Delivery, DeliveryState, Endpoint

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert('x')</script>\u202eevil"


@pytest.fixture(autouse=True)
def _fast(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def receiver(settings) -> Iterator[Site]:
    with Site().running() as site:
        settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
        site.route("/hook", b"ok")
        yield site


@pytest.fixture
def org():
    return make_org("Acme")


def owner_of(org):
    return Membership.objects.get(organization=org, role=Role.OWNER).user


def create(client, url: str, **extra):
    data = {
        "name": HOSTILE,
        "url": url,
        "format": "generic",
        "event_types": ["security.post_held", "member.offboarded"],
        "language": "en",
        **extra,
    }
    return client.post(reverse("web:webhooks"), data)


def test_an_endpoint_is_created_its_secret_shown_once_and_a_test_event_delivered(
    org, receiver, django_capture_on_commit_callbacks
):
    client = signed_in(owner_of(org))
    response = create(client, receiver.route("/hook/private-token", b"ok"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    found = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', page)
    assert found is not None
    secret = found.group(1)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    endpoint = Endpoint.objects.get()
    listing = client.get(reverse("web:webhooks")).content.decode()
    detail = client.get(reverse("web:webhook", args=[endpoint.pk])).content.decode()
    for shown in (listing, detail):
        assert secret not in shown and "private-token" not in shown
        assert endpoint.secret_hint in shown or shown is listing
    assert secret not in str(client.session.items())
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("web:webhook-test", args=[endpoint.pk]))
    assert answer.status_code == 302
    [seen] = receiver.requests
    signing.verify(secret, seen.headers, seen.body)
    assert json.loads(seen.body)["type"] == "webhook.test"
    assert Delivery.objects.get().state == DeliveryState.SUCCEEDED
    shown = client.get(reverse("web:webhook", args=[endpoint.pk])).content.decode()
    assert "webhook.test" in shown and "Delivered" in shown


def test_rotate_edit_and_delete(org, receiver):
    client = signed_in(owner_of(org))
    create(client, receiver.url + "/hook")
    endpoint = Endpoint.objects.get()
    rotated = client.post(reverse("web:webhook-rotate", args=[endpoint.pk]))
    found = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', rotated.content.decode())
    assert found is not None and "no-store" in rotated["Cache-Control"]
    edit = {
        "name": "Renamed",
        "url": "",
        "format": "slack",
        "event_types": ["audit.chain_broken"],
        "language": "es",
        "is_active": "",
    }
    assert client.post(reverse("web:webhook", args=[endpoint.pk]), edit).status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.format, endpoint.event_types, endpoint.is_active, endpoint.language) == (
        "Renamed",
        "slack",
        ["audit.chain_broken"],
        False,
        "es",
    )
    assert client.post(reverse("web:webhook-delete", args=[endpoint.pk])).status_code == 302
    assert not Endpoint.objects.exists()
    assert AuditEntry.objects.filter(action="webhook.delete").exists()


def test_refused_addresses_come_back_with_the_reason(org):
    client = signed_in(owner_of(org))
    for url in ("http://169.254.169.254/latest", "http://example.com/hook", "file:///etc/passwd"):
        response = create(client, url)
        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("role", [Role.BRAND_MANAGER, Role.COMMUNITY_MANAGER, Role.ANALYST, Role.CONTRIBUTOR])
def test_only_owners_and_administrators(org, role, receiver):
    owner = signed_in(owner_of(org))
    create(owner, receiver.url + "/hook")
    endpoint = Endpoint.objects.get()
    client = signed_in(make_member(org, role))
    assert client.get(reverse("web:webhooks")).status_code == 403
    assert create(client, receiver.url + "/hook").status_code == 403
    for name in ("web:webhook", "web:webhook-test", "web:webhook-rotate", "web:webhook-delete"):
        assert client.post(reverse(name, args=[endpoint.pk])).status_code == 403
    assert Endpoint.objects.count() == 1 and not Delivery.objects.exists()
    admin = signed_in(make_member(org, Role.ADMIN))
    assert admin.get(reverse("web:webhooks")).status_code == 200


def test_another_organizations_endpoint_is_not_found(org, receiver):
    create(signed_in(owner_of(org)), receiver.url + "/hook")
    endpoint = Endpoint.objects.get()
    stranger = signed_in(owner_of(make_org("Rival")))
    assert stranger.get(reverse("web:webhook", args=[endpoint.pk])).status_code == 404
    for name in ("web:webhook-test", "web:webhook-rotate", "web:webhook-delete"):
        assert stranger.post(reverse(name, args=[endpoint.pk])).status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk).exists() and not Delivery.objects.exists()


def test_the_settings_page_links_to_webhooks_for_owners(org):
    page = signed_in(owner_of(org)).get(reverse("web:settings")).content.decode()
    assert reverse("web:webhooks") in page
    other = signed_in(make_member(org, Role.COMMUNITY_MANAGER)).get(reverse("web:settings")).content.decode()
    assert reverse("web:webhooks") not in other
