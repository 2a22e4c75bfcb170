from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tertulia.connectors import registry
from tertulia.connectors.base import (
    AccountInfo,
    AuthenticationFailed,
    Capability,
    ConnectedAccount,
    Connector,
    TemporaryFailure,
)
from tertulia.connectors.health import refresh_due
from tertulia.core.actions.channels import connect_account, connect_or_reconnect
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, ChannelStatus, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.vault.actions import unlocked
from tertulia.vault.models import Credential
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db


class ExpiringNet(Connector):
    network = "expiringnet"
    display_name = "ExpiringNet"
    capabilities = frozenset({Capability.REFRESH_TOKENS})
    outcome = "ok"

    def refresh_credentials(self) -> Mapping[str, str]:
        if ExpiringNet.outcome == "refused":
            raise AuthenticationFailed("refresh token revoked")
        if ExpiringNet.outcome == "down":
            raise TemporaryFailure("server error")
        generation = int(self.account.credentials["generation"]) + 1
        expires = timezone.now() + timedelta(hours=2)
        return {
            "access_token": f"at-{generation}",
            "generation": str(generation),
            "expires_at": expires.isoformat(),
        }


@pytest.fixture(autouse=True)
def expiringnet(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "expiringnet", f"{__name__}.ExpiringNet")
    ExpiringNet.outcome = "ok"


def connected(expires_in: timedelta) -> ConnectedAccount:
    return ConnectedAccount(
        AccountInfo("acct-1", "marca", "Marca"),
        {"access_token": "at-0", "generation": "0"},
        timezone.now() + expires_in,
    )


@pytest.fixture
def channel():
    return connect_account(
        Actor.system(), make_brand(make_org()), "expiringnet", connected(timedelta(minutes=5))
    )


def test_credentials_close_to_expiry_are_refreshed_and_far_ones_are_not(channel):
    other = connect_account(
        Actor.system(),
        make_brand(make_org()),
        "expiringnet",
        ConnectedAccount(
            AccountInfo("acct-2", "otra", "Otra"),
            {"access_token": "x", "generation": "0"},
            timezone.now() + timedelta(days=30),
        ),
    )
    assert refresh_due() == 1
    with unlocked(channel) as secrets:
        assert secrets["access_token"] == "at-1"
    expires_at = Credential.objects.get(channel=channel).expires_at
    assert expires_at is not None and expires_at > timezone.now() + timedelta(hours=1)
    with unlocked(other) as secrets:
        assert secrets["access_token"] == "x"
    assert refresh_due() == 0, "nothing is due any more"


def test_a_refused_refresh_marks_the_channel_and_tells_its_managers(channel):
    ExpiringNet.outcome = "refused"
    assert refresh_due() == 0
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert AuditEntry.objects.filter(action="credential.refresh_failed", object_id=str(channel.pk)).exists()
    manager = make_member(channel.organization, Role.BRAND_MANAGER)
    page = signed_in(manager).get(reverse("web:team")).content.decode()
    assert 'id="reconnect-banner"' in page and "@marca" in page
    analyst = make_member(channel.organization, Role.ANALYST)
    assert 'id="reconnect-banner"' not in signed_in(analyst).get(reverse("web:team")).content.decode()
    # It is not tried again while it waits for a person.
    ExpiringNet.outcome = "ok"
    assert refresh_due() == 0


def test_a_passing_failure_leaves_the_channel_active_for_the_next_round(channel):
    ExpiringNet.outcome = "down"
    assert refresh_due() == 0
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE
    ExpiringNet.outcome = "ok"
    assert refresh_due() == 1


def test_signing_in_again_reconnects_the_same_channel(channel):
    ExpiringNet.outcome = "refused"
    refresh_due()
    again = connect_or_reconnect(
        Actor.system(),
        channel.brand,
        "expiringnet",
        ConnectedAccount(
            AccountInfo("acct-1", "marca", "Marca"),
            {"access_token": "fresh", "generation": "9"},
            timezone.now() + timedelta(hours=2),
        ),
    )
    assert again.pk == channel.pk
    again.refresh_from_db()
    assert again.status == ChannelStatus.ACTIVE
    with unlocked(again) as secrets:
        assert secrets["access_token"] == "fresh"


def test_an_expiry_without_offset_is_read_as_utc():
    from tertulia.connectors.health import _expiry

    parsed = _expiry({"expires_at": "2026-11-21T12:00:00"})
    assert parsed is not None and parsed.utcoffset() == timedelta(0) and parsed.hour == 12
    assert _expiry({}) is None
