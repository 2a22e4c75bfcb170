from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.test import AsyncClient

from tertulia.core.tests.factories import make_member, make_org, make_user
from tertulia.live.brokers import DatabaseBroker, RedisBroker, get_broker
from tertulia.live.events import Event
from tertulia.live.models import LiveEvent
from tertulia.live.publish import notify_organization
from tertulia.live.views import event_stream

T = TypeVar("T")


def test_events_use_the_sse_wire_format():
    text = Event(id="7", organization_id=1, topic="inbox", data={"n": 1}).to_sse()
    assert text == 'id: 7\nevent: inbox\ndata: {"topic":"inbox","n":1}\n\n'


@pytest.mark.django_db
def test_notifications_wait_for_the_commit_and_vanish_with_a_rollback(
    django_capture_on_commit_callbacks, monkeypatch
):
    import tertulia.live.brokers as brokers

    monkeypatch.setattr(brokers, "get_broker", DatabaseBroker)
    org = make_org()
    LiveEvent.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        notify_organization(org.pk, "inbox", count=3)
    assert list(LiveEvent.objects.values_list("topic", "data")) == [("inbox", {"count": 3})]
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_organization(org.pk, "lost")
        raise RuntimeError
    assert not LiveEvent.objects.filter(topic="lost").exists()


def run(scenario: Coroutine[Any, Any, T]) -> T:
    """Run an async scenario, then close the database connections its ORM calls opened.

    Async ORM calls run in asgiref's thread-sensitive executor thread; a connection left
    open there keeps PostgreSQL from dropping the test database at the end of the run.
    """

    async def wrapped() -> T:
        try:
            return await scenario
        finally:
            await sync_to_async(connections.close_all)()

    return asyncio.run(wrapped())


async def _collect(stream, count: int, timeout: float = 10.0) -> list:
    got = []

    async def run():
        async for item in stream:
            got.append(item)
            if len(got) >= count:
                return

    await asyncio.wait_for(run(), timeout)
    return got


@pytest.mark.django_db(transaction=True)
def test_database_broker_delivers_only_the_listener_organizations_events_in_order():
    broker = DatabaseBroker()
    broker.publish(1, "before", {})  # published before listening: not replayed

    async def scenario():
        stream = await broker.subscribe([1, 2], None)
        collector = asyncio.ensure_future(_collect(stream, 3))
        for org, topic in [(3, "other-tenant"), (1, "a"), (2, "b"), (1, "c")]:
            await sync_to_async(broker.publish)(org, topic, {})
        events = await collector
        await stream.aclose()
        return events

    events = run(scenario())
    assert [e.topic for e in events] == ["a", "b", "c"]
    assert [e.organization_id for e in events] == [1, 2, 1]


@pytest.mark.django_db(transaction=True)
def test_database_broker_resumes_after_last_event_id():
    broker = DatabaseBroker()
    broker.publish(1, "seen", {})
    last = LiveEvent.objects.latest("id").pk
    broker.publish(1, "missed-while-away", {})

    async def scenario():
        stream = await broker.subscribe([1], str(last))
        events = await _collect(stream, 1)
        await stream.aclose()
        return events

    assert [e.topic for e in run(scenario())] == ["missed-while-away"]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL); .ci/run provides it")
def test_redis_broker_fans_out_across_connections():
    publisher = RedisBroker(os.environ["REDIS_URL"])
    listener = RedisBroker(os.environ["REDIS_URL"])

    async def scenario():
        stream = await listener.subscribe([41], None)
        collector = asyncio.ensure_future(_collect(stream, 1))
        publisher.publish(42, "other-tenant", {})
        publisher.publish(41, "inbox", {"n": 2})
        events = await collector
        await stream.aclose()
        return events

    [event] = run(scenario())
    assert (event.organization_id, event.topic, event.data) == (41, "inbox", {"n": 2})


@pytest.mark.django_db(transaction=True)
def test_stream_endpoint_needs_a_member_and_streams_their_events(monkeypatch):
    import tertulia.live.views as views

    monkeypatch.setattr(views, "KEEPALIVE_SECONDS", 0.2)
    org = make_org()
    member = make_member(org)
    outsider = make_user()

    async def scenario():
        anonymous = await AsyncClient().get("/live/stream")
        client = AsyncClient()
        await sync_to_async(client.force_login)(outsider)
        no_org = await client.get("/live/stream")
        await sync_to_async(client.force_login)(member)
        response = await client.get("/live/stream")
        assert response["Content-Type"] == "text/event-stream"
        chunks = response.streaming_content.__aiter__()  # type: ignore[attr-defined]  # the stubs type it as sync
        first = await asyncio.wait_for(chunks.__anext__(), 5)
        # Through the configured broker: the database, or Redis when REDIS_URL is set.
        await sync_to_async(get_broker().publish)(org.pk, "inbox", {"n": 1})
        received: list[str] = []
        while not any("event: inbox" in c for c in received):
            chunk = await asyncio.wait_for(chunks.__anext__(), 10)
            received.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
        await chunks.aclose()
        return anonymous.status_code, no_org.status_code, first, received

    anonymous, no_org, first, received = run(scenario())
    assert anonymous == 401
    assert no_org == 401
    assert (first.decode() if isinstance(first, bytes) else first).startswith("retry:")
    data_line = next(line for c in received for line in c.splitlines() if line.startswith("data:"))
    assert json.loads(data_line[5:]) == {"topic": "inbox", "n": 1}


def test_stream_sends_keepalives_while_quiet(monkeypatch):
    import tertulia.live.views as views

    class Silent:
        async def subscribe(self, ids, last):
            async def never():
                await asyncio.sleep(3600)
                yield  # pragma: no cover

            return never()

    monkeypatch.setattr(views, "KEEPALIVE_SECONDS", 0.05)
    monkeypatch.setattr(views, "get_broker", lambda: Silent())

    async def scenario():
        stream = event_stream([1], None)
        items = [await stream.__anext__() for _ in range(3)]
        await stream.aclose()
        return items

    assert run(scenario()) == ["retry: 3000\n\n", ": keepalive\n\n", ": keepalive\n\n"]


@pytest.mark.django_db(transaction=True)
def test_database_broker_delivers_a_late_commit_once():
    """An event whose id is below one already delivered (committed late) still arrives, once."""
    broker = DatabaseBroker()
    broker.publish(1, "start", {})
    start = LiveEvent.objects.latest("id").pk

    async def scenario():
        stream = await broker.subscribe([1], str(start))
        collector = asyncio.ensure_future(_collect(stream, 3, timeout=15))
        # Simulate out-of-order visibility: a higher id shows up first...
        await sync_to_async(LiveEvent.objects.create)(id=start + 10, organization_id=1, topic="newer")
        await asyncio.sleep(1.5)
        # ...then the lower one commits, and then one more normal event.
        await sync_to_async(LiveEvent.objects.create)(id=start + 5, organization_id=1, topic="late")
        await sync_to_async(broker.publish)(1, "after", {})
        events = await collector
        await stream.aclose()
        return events

    topics = [e.topic for e in run(scenario())]
    # Each exactly once; a late commit cannot promise its place in the order.
    assert sorted(topics) == ["after", "late", "newer"]
    assert topics[0] == "newer"
