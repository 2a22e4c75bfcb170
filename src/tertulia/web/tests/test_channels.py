from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tertulia.connectors import registry
from tertulia.connectors.signin import SignIn, sign_in_method
from tertulia.connectors.tests.fake_networks import APP_PASSWORD, OAuthNet, PasswordNet, fake_networks
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Channel, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.vault.actions import register_app, unlocked
from tertulia.web.tests.helpers import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_networks")]
__all__ = ["fake_networks"]  # the fixture, used through pytestmark


@pytest.fixture
def setup():
    org = make_org()
    brand = make_brand(org, "Marca")
    manager = make_member(org, Role.BRAND_MANAGER)
    return org, brand, signed_in(manager)


def test_each_network_is_offered_with_its_own_sign_in():
    assert sign_in_method(registry.connector_class("sandbox")) == SignIn.HANDLE
    assert sign_in_method(PasswordNet) == SignIn.PASSWORD
    assert sign_in_method(OAuthNet) == SignIn.OAUTH


def test_an_app_password_connects_and_is_never_kept(setup):
    _org, brand, client = setup
    wrong = client.post(
        reverse("web:channel-connect"),
        {"network": "passwordnet", "handle": "marca.example", "password": "nope"},
        follow=True,
    )
    assert "Invalid identifier or password" in wrong.content.decode()
    assert not Channel.objects.filter(network="passwordnet").exists()
    client.post(
        reverse("web:channel-connect"),
        {
            "network": "passwordnet",
            "handle": "marca.example",
            "password": APP_PASSWORD,
            "server": "https://pds.example",
        },
    )
    channel = Channel.objects.get(network="passwordnet")
    assert (channel.brand, channel.external_id, channel.settings) == (
        brand,
        "did:marca.example",
        {"service": "https://pds.example"},
    )
    with unlocked(channel) as secrets:
        assert secrets == {"session": "jwt-marca.example"}
    everything = str(list(AuditEntry.objects.values_list("changes", flat=True))) + str(
        Channel.objects.values()
    )
    assert APP_PASSWORD not in everything
    page = client.get(reverse("web:channels")).content.decode()
    assert "In the vault" in page and "jwt-marca" not in page


def test_oauth_round_trip_with_state_and_pkce(setup):
    org, brand, client = setup
    register_app(Actor.system(), "oauthnet", "client-123", {"client_secret": "cs"})
    start = client.post(reverse("web:channel-connect"), {"network": "oauthnet"})
    assert start.status_code == 302
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["client_id"] == ["client-123"]
    state = query["state"][0]
    assert len(query["code_challenge"][0]) == 43  # S256, base64url without padding
    # A forged return (unknown state) connects nothing.
    forged = client.get(reverse("web:channel-callback"), {"state": "forged", "code": "good"}, follow=True)
    assert "could not be verified" in forged.content.decode()
    # Someone else in the organization cannot finish this person's sign-in.
    colleague = signed_in(make_member(org, Role.BRAND_MANAGER))
    stolen = colleague.get(reverse("web:channel-callback"), {"state": state, "code": "good"}, follow=True)
    assert "could not be verified" in stolen.content.decode()
    assert not Channel.objects.filter(network="oauthnet").exists()
    # That attempt used the state up; start again and come back properly.
    start = client.post(reverse("web:channel-connect"), {"network": "oauthnet"})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    done = client.get(reverse("web:channel-callback"), {"state": state, "code": "good"})
    assert done.status_code == 302
    channel = Channel.objects.get(network="oauthnet")
    assert channel.brand == brand
    with unlocked(channel) as secrets:
        assert secrets == {"access_token": "at-secret"}
    # The same return replayed does nothing more.
    replay = client.get(reverse("web:channel-callback"), {"state": state, "code": "good"}, follow=True)
    assert "could not be verified" in replay.content.decode()
    assert Channel.objects.filter(network="oauthnet").count() == 1


def test_a_late_return_is_refused(setup):
    from datetime import timedelta

    from django.utils import timezone

    from tertulia.connectors.models import PendingAuthorization

    _org, _brand, client = setup
    register_app(Actor.system(), "oauthnet", "client-123", {})
    start = client.post(reverse("web:channel-connect"), {"network": "oauthnet"})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    PendingAuthorization.objects.filter(state=state).update(created_at=timezone.now() - timedelta(minutes=11))
    late = client.get(reverse("web:channel-callback"), {"state": state, "code": "good"}, follow=True)
    assert "could not be verified" in late.content.decode()
    assert not Channel.objects.filter(network="oauthnet").exists()


def test_oauth_needs_an_app_registration_first(setup):
    _org, _brand, client = setup
    response = client.post(reverse("web:channel-connect"), {"network": "oauthnet"}, follow=True)
    assert "register Tertulia as an app" in response.content.decode()


def test_a_denied_authorization_connects_nothing(setup):
    _org, _brand, client = setup
    register_app(Actor.system(), "oauthnet", "client-123", {})
    start = client.post(reverse("web:channel-connect"), {"network": "oauthnet"})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    denied = client.get(
        reverse("web:channel-callback"), {"state": state, "error": "access_denied"}, follow=True
    )
    assert "did not authorize" in denied.content.decode()
    assert not Channel.objects.filter(network="oauthnet").exists()


def test_only_channel_managers_connect(setup):
    org, _brand, _client = setup
    community_manager = signed_in(make_member(org, Role.COMMUNITY_MANAGER))
    assert community_manager.get(reverse("web:channels")).status_code == 403
    response = community_manager.post(
        reverse("web:channel-connect"), {"network": "passwordnet", "handle": "x", "password": APP_PASSWORD}
    )
    assert response.status_code == 403
    assert not Channel.objects.filter(network="passwordnet").exists()


def test_sandbox_handles_connect_from_the_page(setup):
    _org, brand, client = setup
    client.post(reverse("web:channel-connect"), {"network": "sandbox", "handle": "@Marca_Nueva"})
    assert Channel.objects.get(network="sandbox", brand=brand).handle == "marca_nueva"


def _sign_in(client, network: str = "multinet"):
    start = client.post(reverse("web:channel-connect"), {"network": network})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    return client.get(reverse("web:channel-callback"), {"state": state, "code": "good"})


def test_a_login_with_several_accounts_lets_the_person_choose(setup):
    from tertulia.connectors.models import PendingChoice

    org, brand, client = setup
    register_app(Actor.system(), "multinet", "client-m", {})
    back = _sign_in(client)
    assert back.status_code == 302 and "/settings/channels/choose/" in back["Location"]
    assert not Channel.objects.filter(network="multinet").exists()
    choice = PendingChoice.objects.get()
    # The candidates' tokens are sealed: not in clear in the row, not on the page.
    assert b"pt-secret" not in bytes(choice.ciphertext)
    page = client.get(back["Location"]).content.decode()
    assert "Página 1" in page and "pagina3" in page and "pt-secret" not in page
    # Someone else cannot see or use this person's choice.
    colleague = signed_in(make_member(org, Role.BRAND_MANAGER))
    assert "no longer available" in colleague.get(back["Location"], follow=True).content.decode()
    client.post(back["Location"], {"account": "1"})
    channel = Channel.objects.get(network="multinet")
    assert (channel.handle, channel.external_id, channel.brand) == ("pagina2", "page-2", brand)
    with unlocked(channel) as secrets:
        assert secrets == {"page_token": "pt-secret-2"}
    assert not PendingChoice.objects.exists(), "a choice is used once"
    again = client.post(back["Location"], {"account": "2"}, follow=True)
    assert "no longer available" in again.content.decode()
    assert Channel.objects.filter(network="multinet").count() == 1


@pytest.mark.parametrize("answer", ["7", "-1", "x", "", "²"])
def test_an_impossible_choice_connects_nothing(setup, answer):
    _org, _brand, client = setup
    register_app(Actor.system(), "multinet", "client-m", {})
    back = _sign_in(client)
    response = client.post(back["Location"], {"account": answer}, follow=True)
    assert response.status_code == 200
    assert not Channel.objects.filter(network="multinet").exists()


def test_a_stale_choice_is_refused(setup):
    from datetime import timedelta

    from django.utils import timezone

    from tertulia.connectors.models import PendingChoice

    _org, _brand, client = setup
    register_app(Actor.system(), "multinet", "client-m", {})
    back = _sign_in(client)
    PendingChoice.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    assert "no longer available" in client.get(back["Location"], follow=True).content.decode()
    client.post(back["Location"], {"account": "0"})
    assert not Channel.objects.filter(network="multinet").exists()


def test_a_sign_in_cannot_finish_after_the_person_lost_the_right(setup):
    """Started in organization A, finished while B is selected, after losing the manager role in A."""
    from tertulia.core.actions.organizations import change_member_role
    from tertulia.core.models import Membership

    org, _brand, client = setup
    register_app(Actor.system(), "oauthnet", "client-123", {})
    start = client.post(reverse("web:channel-connect"), {"network": "oauthnet"})
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    manager = Membership.objects.get(organization=org, role=Role.BRAND_MANAGER).user
    other = make_org()
    make_brand(other, "Otra")
    from tertulia.core.actions.organizations import add_member

    add_member(Actor.system(), other, manager, Role.BRAND_MANAGER)
    change_member_role(Actor.system(), Membership.objects.get(organization=org, user=manager), Role.ANALYST)
    client.post(reverse("web:switch-organization"), {"organization": other.pk})
    response = client.get(reverse("web:channel-callback"), {"state": state, "code": "good"}, follow=True)
    assert "no longer connect channels" in response.content.decode()
    assert not Channel.objects.filter(network="oauthnet").exists()
