"""Reading channels: claims, cursors, failures, webhook wake-ups; against the sandbox network."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.connectors.base import TemporaryFailure
from tertulia.connectors.models import EventStatus, InboundEvent
from tertulia.connectors.sandbox import network
from tertulia.inbox.ingest import events, poller
from tertulia.inbox.models import ChannelCursor, Conversation, Message

pytestmark = pytest.mark.django_db


def _crowd_writes(channel, n: int) -> None:
    brand_account = network.get_account(channel.handle)
    post = network.post(brand_account, "Novedades de la semana")
    for i in range(n):
        person = network.create_account(f"cliente_{i}", f"Cliente {i}", language="es")
        network.reply(person, post, f"@{brand_account.handle} ¿cuándo abrís la tienda {i}?")


def test_a_channel_is_read_from_its_cursor_once_per_message(channel) -> None:
    assert poller.ensure_cursors() == 1
    _crowd_writes(channel, 3)
    [cursor_id] = poller.claim_due()
    assert poller.poll(cursor_id) == 3
    cursor = ChannelCursor.objects.get(pk=cursor_id)
    assert cursor.cursor and cursor.claimed_until is None and cursor.failures == 0
    assert cursor.next_poll_at > timezone.now()
    assert Conversation.objects.filter(channel=channel).count() == 1  # replies under one post
    assert poller.poll(cursor_id) == 0  # nothing new: the cursor moved past them
    _crowd_writes(channel, 2)
    assert poller.poll(cursor_id) == 2
    assert Message.objects.filter(channel=channel).count() == 5


def test_a_channel_is_claimed_by_one_worker_at_a_time(channel) -> None:
    poller.ensure_cursors()
    assert len(poller.claim_due()) == 1
    assert poller.claim_due() == []  # the lease holds
    ChannelCursor.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert len(poller.claim_due()) == 1  # a dead worker's lease runs out


def test_a_failing_network_backs_off_and_keeps_the_cursor(channel, monkeypatch) -> None:
    poller.ensure_cursors()
    ChannelCursor.objects.update(cursor="42")

    def down(self, cursor=None, limit=100):
        raise TemporaryFailure("down")

    monkeypatch.setattr("tertulia.connectors.sandbox.connector.SandboxConnector.fetch_inbound", down)
    [cursor_id] = poller.claim_due()
    assert poller.poll(cursor_id) == 0
    cursor = ChannelCursor.objects.get(pk=cursor_id)
    assert cursor.cursor == "42" and cursor.failures == 1 and cursor.last_error == "down"
    assert cursor.claimed_until is None
    assert cursor.next_poll_at >= timezone.now() + poller.interval("sandbox")  # backing off
    poller.poll(cursor_id)
    assert ChannelCursor.objects.get(pk=cursor_id).failures == 2


def test_a_crash_mid_page_leaves_the_cursor_for_the_next_round(channel, monkeypatch) -> None:
    poller.ensure_cursors()
    _crowd_writes(channel, 2)
    monkeypatch.setattr("tertulia.inbox.ingest.poller.ingest", _explode)
    [cursor_id] = poller.claim_due()
    poller.poll(cursor_id)
    assert ChannelCursor.objects.get(pk=cursor_id).cursor == ""
    monkeypatch.undo()
    ChannelCursor.objects.update(next_poll_at=timezone.now())
    [cursor_id] = poller.claim_due()
    assert poller.poll(cursor_id) == 2


def _explode(*args, **kwargs):
    raise RuntimeError("worker died")


def test_webhook_events_wake_their_channel(channel) -> None:
    poller.ensure_cursors()
    later = timezone.now() + timedelta(hours=1)
    ChannelCursor.objects.update(next_poll_at=later)
    event = InboundEvent.objects.create(
        network="sandbox",
        event_id="e1",
        kind="mention",
        account_id=channel.external_id,
        status=EventStatus.READY,
    )
    stranger = InboundEvent.objects.create(
        network="sandbox", event_id="e2", kind="mention", account_id="nobody", status=EventStatus.READY
    )
    assert events.take_ready_events() == 2
    assert ChannelCursor.objects.get(channel=channel).next_poll_at <= timezone.now()
    assert set(
        InboundEvent.objects.filter(pk__in=[event.pk, stranger.pk]).values_list("status", flat=True)
    ) == {EventStatus.DONE}
    assert events.take_ready_events() == 0
