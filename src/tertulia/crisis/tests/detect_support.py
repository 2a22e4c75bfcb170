"""What the detection tests share: a brand with a sandbox channel, messages written at given minutes,
history buckets with a daily rhythm, and a tiny traffic simulator with seeds."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Organization
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.crisis.models import Bucket, Watch, WatchKind
from tertulia.inbox.models import Conversation, Direction, Message

# A Wednesday, 12:30 UTC: a busy hour of a weekday.
NOW = datetime(2026, 11, 18, 12, 30, 20, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>\u202e\u200b🔥 intoxicación & "quotes"'
_ids = itertools.count(1)


@dataclass
class Shop:
    org: Organization
    brand: Brand
    channel: Channel


@pytest.fixture
def shop(db: None) -> Shop:
    org = make_org("Tienda SA")
    brand = make_brand(org, "Tienda")
    channel = connect_channel(Actor.system("tests"), brand, "sandbox", "@tienda_crisis", "Tienda")
    return Shop(org, brand, channel)


def brand_watch(brand: Brand) -> Watch:
    watch, _ = Watch.objects.get_or_create(
        brand=brand, kind=WatchKind.BRAND, defaults={"organization_id": brand.organization_id}
    )
    return watch


def write(
    channel: Channel,
    sent_at: datetime,
    count: int = 1,
    *,
    negative: int = 0,
    text: str = "hola, una pregunta sobre mi pedido",
    author: str = "",
    followers: int = 10,
    direction: str = Direction.INBOUND,
) -> list[Message]:
    """`count` messages written at `sent_at` (the first `negative` of them negative)."""
    n = next(_ids)
    conversation = Conversation.objects.create(
        organization_id=channel.brand.organization_id,
        brand_id=channel.brand_id,
        channel=channel,
        key=f"c{n}",
        kind="mention",
        last_message_at=sent_at,
    )
    made = []
    for i in range(count):
        n = next(_ids)
        made.append(
            Message(
                organization_id=channel.brand.organization_id,
                brand_id=channel.brand_id,
                channel=channel,
                conversation=conversation,
                remote_id=f"m{n}",
                direction=direction,
                kind="mention",
                author_handle=author or f"@persona{n}",
                author_followers=followers,
                text=text,
                url=f"https://sandbox.example/p/{n}",
                sent_at=sent_at,
                sentiment="negative" if i < negative else "neutral",
            )
        )
    return Message.objects.bulk_create(made) if made else []


def usual_traffic(channel: Channel, start: datetime, end: datetime, seed: int = 3) -> None:
    """Messages at the rhythm's rate for every minute of [start, end)."""
    rng = random.Random(seed)
    moment = start
    while moment < end:
        count = poisson(rng, rhythm(moment.hour * 60 + moment.minute, moment.weekday()))
        write(channel, moment + timedelta(seconds=10), count, text="gracias por el pedido, todo bien")
        moment += timedelta(minutes=1)


def rhythm(minute_of_day: int, weekday: int) -> float:
    """Messages per minute: quiet nights, a midday peak, weekends at 60 %."""
    hour = minute_of_day / 60
    daily = 0.3 + 2.7 * math.exp(-(((hour - 13) / 4) ** 2))
    return daily * (0.6 if weekday >= 5 else 1.0)


def seed_history(watch: Watch, until: datetime, days: int, seed: int = 7, share: float = 0.1) -> None:
    """Poisson buckets with the rhythm above for `days` before `until` (a minute boundary), each message
    from a different person."""
    rng = random.Random(seed)
    rows = []
    moment = until - timedelta(days=days)
    while moment < until:
        rate = rhythm(moment.hour * 60 + moment.minute, moment.weekday())
        volume = poisson(rng, rate)
        if volume:
            negative = sum(1 for _ in range(volume) if rng.random() < share)
            rows.append(Bucket(watch=watch, minute=moment, volume=volume, negative=negative, people=volume))
        moment += timedelta(minutes=1)
    Bucket.objects.bulk_create(rows, batch_size=2000)
    Watch.objects.filter(pk=watch.pk).update(counted_until=until - timedelta(minutes=1))
    watch.refresh_from_db()


def poisson(rng: random.Random, mean: float) -> int:
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count
