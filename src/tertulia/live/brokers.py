"""Where live events travel between processes.

- `DatabaseBroker` (embedded profile): events are rows; listeners poll for new
  ids. Web and worker are separate processes, so an in-memory queue would not do.
- `RedisBroker` (scale-out): Redis pub/sub, one channel per organization, so any
  web process on any machine sees events from any worker.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from datetime import timedelta
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tertulia.core.ids import parse_id
from tertulia.live.events import Event

POLL_SECONDS = 1.0
RETENTION = timedelta(minutes=10)
# How long a transaction may take between taking an id and committing it.
LATE_COMMIT_WINDOW = timedelta(seconds=10)
LATE_COMMIT_ROWS = 1000


class Broker(Protocol):
    def publish(self, organization_id: int, topic: str, data: dict[str, Any]) -> None: ...

    async def subscribe(
        self, organization_ids: Sequence[int], last_event_id: str | None
    ) -> AsyncGenerator[Event, None]:
        """Start listening now; events published after this returns are all delivered."""
        ...


class DatabaseBroker:
    def publish(self, organization_id: int, topic: str, data: dict[str, Any]) -> None:
        from tertulia.live.models import LiveEvent

        LiveEvent.objects.create(organization_id=organization_id, topic=topic, data=data)

    async def subscribe(
        self, organization_ids: Sequence[int], last_event_id: str | None
    ) -> AsyncGenerator[Event, None]:
        from tertulia.live.models import LiveEvent

        last = parse_id(last_event_id)
        if last is None:
            newest = await LiveEvent.objects.order_by("-id").values_list("id", flat=True).afirst()
            last = newest or 0
        # Rows already visible up to `last` count as delivered; anything that becomes visible
        # later (new, or an older id committed late) is sent.
        window = LiveEvent.objects.filter(
            organization_id__in=list(organization_ids),
            id__lte=last,
            id__gt=last - LATE_COMMIT_ROWS,
            created_at__gte=timezone.now() - LATE_COMMIT_WINDOW,
        )
        now = time.monotonic()
        seen = {pk: now async for pk in window.values_list("id", flat=True)}
        return self._poll(list(organization_ids), last, seen)

    async def _poll(
        self, organization_ids: list[int], last: int, sent: dict[int, float]
    ) -> AsyncGenerator[Event, None]:
        """Deliver rows after `last`, also looking back a few seconds.

        Ids are handed out at insert but become visible at commit, and on PostgreSQL two
        transactions can commit out of order: id 11 may be seen before id 10. Re-reading a
        short window behind the newest row, and skipping ids already sent, catches the
        late one instead of losing it.
        """
        from tertulia.live.models import LiveEvent

        while True:
            now = time.monotonic()
            since = timezone.now() - LATE_COMMIT_WINDOW
            rows = LiveEvent.objects.filter(organization_id__in=organization_ids).filter(
                Q(id__gt=last) | Q(created_at__gte=since, id__gt=last - LATE_COMMIT_ROWS)
            )
            async for row in rows.order_by("id")[:500]:
                if row.id in sent:
                    continue
                sent[row.id] = now
                last = max(last, row.id)
                yield Event(
                    id=str(row.id), organization_id=row.organization_id, topic=row.topic, data=row.data
                )
            # Forget ids older than the window: they can no longer come back.
            horizon = now - 2 * LATE_COMMIT_WINDOW.total_seconds()
            for event_id in [k for k, seen in sent.items() if seen < horizon]:
                del sent[event_id]
            await asyncio.sleep(POLL_SECONDS)

    def prune(self) -> int:
        from tertulia.live.models import LiveEvent

        deleted, _ = LiveEvent.objects.filter(created_at__lt=timezone.now() - RETENTION).delete()
        return deleted


def redis_channel(organization_id: int) -> str:
    return f"tertulia:live:org:{organization_id}"


class RedisBroker:
    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url)

    def publish(self, organization_id: int, topic: str, data: dict[str, Any]) -> None:
        message = {"id": uuid.uuid4().hex, "topic": topic, "data": data}
        self.client.publish(redis_channel(organization_id), json.dumps(message))

    async def subscribe(
        self, organization_ids: Sequence[int], last_event_id: str | None
    ) -> AsyncGenerator[Event, None]:
        # Pub/sub keeps no history, so Last-Event-ID cannot be honoured here; the page
        # refreshes what it shows when it reconnects, which covers the gap.
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(*[redis_channel(pk) for pk in organization_ids])
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            await client.aclose()
            raise
        return self._receive(client, pubsub)

    async def _receive(self, client: Any, pubsub: Any) -> AsyncGenerator[Event, None]:
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_SECONDS)
                if message is None or message.get("type") != "message":
                    continue
                body = json.loads(message["data"])
                organization_id = int(message["channel"].decode().rsplit(":", 1)[1])
                yield Event(
                    id=body["id"], organization_id=organization_id, topic=body["topic"], data=body["data"]
                )
        finally:
            await pubsub.aclose()
            await client.aclose()

    def prune(self) -> int:
        return 0


@cache
def get_broker() -> DatabaseBroker | RedisBroker:
    if settings.TERTULIA_LIVE_BROKER == "redis":
        url = settings.TERTULIA_REDIS_URL
        assert url, "the redis broker is chosen only when REDIS_URL is set"
        return RedisBroker(url)
    return DatabaseBroker()
