from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pytest
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.publishing.delivery.ledger import enqueue
from tertulia.publishing.models import DeliveryTarget, Post, PostState, Variant


@pytest.fixture
def org(db) -> Organization:
    return make_org("Publicaciones SA")


@pytest.fixture
def brand(org: Organization) -> Brand:
    return make_brand(org, "Marca")


@pytest.fixture
def author(org: Organization) -> User:
    return make_member(org, Role.COMMUNITY_MANAGER, email="autora@example.com")


@pytest.fixture
def channels(brand: Brand, author: User) -> list[Channel]:
    """Three sandbox channels the author operates."""
    made = [connect_channel(Actor.system(), brand, "sandbox", f"@marca_{n}", f"Marca {n}") for n in range(3)]
    for channel in made:
        set_channel_operators(Actor.system(), channel, [author])
    return made


ScheduledMaker = Callable[..., list[DeliveryTarget]]


@pytest.fixture
def scheduled(brand: Brand, author: User) -> ScheduledMaker:
    """A scheduled post on `channels`, straight into the ledger (the scheduling action is tested apart)."""

    def make(
        channels: Sequence[Channel],
        text: str = "Hola",
        *,
        due: datetime | None = None,
        texts: Sequence[str] = (),
    ) -> list[DeliveryTarget]:
        post = Post.objects.create(
            organization=brand.organization,
            brand=brand,
            created_by=author,
            text=text,
            state=PostState.SCHEDULED,
        )
        payloads = {}
        for n, channel in enumerate(channels):
            variant = Variant.objects.create(post=post, channel=channel)
            payloads[variant.pk] = {"text": texts[n] if texts else f"{text} ({channel.handle})", "media": []}
        return enqueue(post, due or timezone.now(), payloads)

    return make
