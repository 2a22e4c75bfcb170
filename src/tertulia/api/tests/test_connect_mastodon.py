"""`POST /brands/{id}/channels/authorize` for Mastodon: the instance as typed, registered on first use."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tertulia.connectors.mastodon.tests.conftest import fixtures, mastodon, server, spec
from tertulia.core.models import AuditEntry, Brand
from tertulia.vault.models import NetworkApp

from .conftest import Api, Tenant

pytestmark = pytest.mark.django_db
__all__ = ["fixtures", "mastodon", "server", "spec"]  # the fake instance's fixtures, used by name


@pytest.fixture(autouse=True)
def _instance_on_loopback(settings) -> None:
    settings.TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES = True  # the fake listens on 127.0.0.1


@pytest.fixture
def brand(tenant: Tenant) -> Brand:
    return Brand.objects.create(organization=tenant.org, name="Marca", slug="marca")


def test_authorize_registers_on_a_new_instance_once(
    api: Api, tenant: Tenant, owner_token: str, brand: Brand, server, mastodon
) -> None:
    path = f"/brands/{brand.pk}/channels/authorize"
    first = api.post(path, owner_token, {"network": "mastodon", "server": f"{server.url}/"})
    assert first.status == 201, first
    url = first.body["authorization_url"]
    assert url.startswith(f"{server.url}/oauth/authorize?")
    again = api.post(path, owner_token, {"network": "mastodon", "server": server.url})
    client_ids = {
        parse_qs(urlsplit(r.body["authorization_url"]).query)["client_id"][0] for r in (first, again)
    }
    assert client_ids == {NetworkApp.objects.get(network="mastodon").client_id}
    assert len(server.requests_for("createApp")) == 1
    entry = AuditEntry.objects.get(action="network_app.self_register")
    assert (entry.actor, entry.via) == (tenant.owner, "api")


@pytest.mark.parametrize(
    ("typed", "status", "code"),
    [
        ("marca@mastodon.social", 422, "rejected_by_network"),
        ("gopher://mastodon.social", 422, "rejected_by_network"),
        ("http://127.0.0.1:9", 502, "network_error"),
    ],
)
def test_a_bad_or_unreachable_instance_is_a_clear_error(
    api: Api, owner_token: str, brand: Brand, typed: str, status: int, code: str
) -> None:
    response = api.post(
        f"/brands/{brand.pk}/channels/authorize", owner_token, {"network": "mastodon", "server": typed}
    )
    assert (response.status, response.body["code"]) == (status, code)
    assert not NetworkApp.objects.exists()
