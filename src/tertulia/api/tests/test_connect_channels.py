from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tertulia.connectors.models import PendingAuthorization
from tertulia.connectors.tests.fake_networks import APP_PASSWORD, fake_networks
from tertulia.core.models import Brand, Channel
from tertulia.vault.actions import register_app, unlocked
from tertulia.web.tests.helpers import signed_in

from .conftest import SYSTEM, Api, Tenant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_networks")]
__all__ = ["fake_networks"]  # the fixture, used through pytestmark


@pytest.fixture
def brand(tenant: Tenant) -> Brand:
    return Brand.objects.create(organization=tenant.org, name="Marca", slug="marca")


def test_app_password_networks_connect_over_the_api(
    api: Api, tenant: Tenant, owner_token: str, brand: Brand
) -> None:
    path = f"/brands/{brand.pk}/channels"
    missing = api.post(path, owner_token, {"network": "passwordnet", "handle": "marca.example"})
    assert (missing.status, missing.body["code"]) == (422, "app_password_required")
    wrong = api.post(
        path, owner_token, {"network": "passwordnet", "handle": "marca.example", "app_password": "x"}
    )
    assert (wrong.status, wrong.body["code"]) == (422, "network_refused_credentials")
    done = api.post(
        path, owner_token, {"network": "passwordnet", "handle": "marca.example", "app_password": APP_PASSWORD}
    )
    assert done.status == 201, done
    assert APP_PASSWORD not in str(done.body)
    channel = Channel.objects.get(pk=done.body["id"])
    with unlocked(channel) as secrets:
        assert secrets == {"session": "jwt-marca.example"}


def test_oauth_starts_over_the_api_and_finishes_in_the_browser(
    api: Api, tenant: Tenant, owner_token: str, brand: Brand
) -> None:
    direct = api.post(f"/brands/{brand.pk}/channels", owner_token, {"network": "oauthnet", "handle": "x"})
    assert (direct.status, direct.body["code"]) == (422, "use_authorize")
    no_app = api.post(f"/brands/{brand.pk}/channels/authorize", owner_token, {"network": "oauthnet"})
    assert (no_app.status, no_app.body["code"]) == (422, "app_not_registered")
    register_app(SYSTEM, "oauthnet", "client-9", {})
    started = api.post(f"/brands/{brand.pk}/channels/authorize", owner_token, {"network": "oauthnet"})
    assert started.status == 201, started
    assert started.body["expires_in"] == 600
    state = parse_qs(urlsplit(started.body["authorization_url"]).query)["state"][0]
    assert PendingAuthorization.objects.filter(state=state, user=tenant.owner).exists()
    browser = signed_in(tenant.owner)
    browser.get(reverse("web:channel-callback"), {"state": state, "code": "good"})
    assert Channel.objects.filter(network="oauthnet", brand=brand).exists()


def test_password_networks_refuse_the_authorize_route(api: Api, owner_token: str, brand: Brand) -> None:
    response = api.post(f"/brands/{brand.pk}/channels/authorize", owner_token, {"network": "passwordnet"})
    assert (response.status, response.body["code"]) == (422, "wrong_sign_in")
