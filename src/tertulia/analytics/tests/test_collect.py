"""Collecting metrics from a network: the sandbox network for real, a failing network, claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tertulia.analytics.collect import claim, collect_due, ensure_collections
from tertulia.analytics.models import ChannelDay, Collection, PostMetrics
from tertulia.analytics.tests.factories import sent_post
from tertulia.connectors.base import ConnectorError
from tertulia.connectors.sandbox import network
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.core.tests.factories import make_brand, make_org

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def channel() -> Channel:
    return connect_channel(
        Actor.system("test"), make_brand(make_org(), "Marca"), "sandbox", "@marca", "Marca"
    )


def test_account_and_post_figures_come_from_the_sandbox_network(channel: Channel) -> None:
    me = network.get_account("@marca")
    fans = [network.create_account(f"@fan{n}", f"Fan {n}") for n in range(3)]
    for fan in fans:
        network.follow(fan, me)
    network.recount_followers([me.pk])
    published = network.post(me, "¡Hola!")
    network.like(fans[0], published)
    network.like(fans[1], published)
    network.repost(fans[2], published)
    network.post(fans[0], "¡Qué bien!", in_reply_to=published)
    old = network.post(me, "Hace mucho")
    recent = sent_post(channel, NOW - timedelta(days=2), remote_id=str(published.pk))
    sent_post(channel, NOW - timedelta(days=40), remote_id=str(old.pk))  # beyond the window: not asked

    assert collect_due(now=NOW) == 1
    day = ChannelDay.objects.get(channel=channel, day=NOW.date())
    assert day.followers == 3
    figures = PostMetrics.objects.get()
    assert figures.target_id == recent.pk
    assert (figures.likes, figures.reposts, figures.replies, figures.impressions) == (2, 1, 1, None)
    # Due again in an hour, not before; then the new like is counted, on the same rows.
    assert collect_due(now=NOW + timedelta(minutes=30)) == 0
    network.like(fans[2], published)
    assert collect_due(now=NOW + timedelta(hours=1)) == 1
    assert PostMetrics.objects.get().likes == 3
    assert ChannelDay.objects.filter(channel=channel).count() == 1


def test_a_failing_network_backs_off_and_says_why(channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    from tertulia.connectors.sandbox.connector import SandboxConnector

    def broken(self: object) -> None:
        raise ConnectorError("the network is down")

    monkeypatch.setattr(SandboxConnector, "account_metrics", broken)
    assert collect_due(now=NOW) == 0
    collection = Collection.objects.get(channel=channel)
    assert collection.failures == 1 and "down" in collection.last_error
    assert collection.next_at == NOW + timedelta(hours=1)
    assert collect_due(now=NOW + timedelta(hours=1)) == 0
    collection.refresh_from_db()
    assert collection.next_at == NOW + timedelta(hours=3)  # doubled
    assert not ChannelDay.objects.exists()


def test_two_workers_never_claim_the_same_channel(channel: Channel) -> None:
    ensure_collections(NOW)
    assert len(claim(NOW)) == 1
    assert claim(NOW) == []  # leased by the first


def test_a_disconnected_channel_is_not_asked(channel: Channel) -> None:
    channel.status = "disconnected"
    channel.save()
    assert collect_due(now=NOW) == 0
    assert not Collection.objects.exists()
