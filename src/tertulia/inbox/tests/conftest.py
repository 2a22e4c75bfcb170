from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.core.tests.factories import make_brand, make_org

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def channel(db) -> Channel:
    brand = make_brand(make_org(), "Marca")
    return connect_channel(Actor.system(), brand, "sandbox", "@marca_inbox", "Marca")


ItemMaker = Callable[..., InboundItem]


@pytest.fixture
def item() -> ItemMaker:
    """InboundItems with unique ids, written a minute apart from T0 unless told otherwise."""
    counter = itertools.count(1)

    def make(
        text: str = "hola",
        *,
        kind: InboundKind = InboundKind.MENTION,
        author: str = "ana",
        author_id: str = "",
        followers: int = 10,
        key: str = "",
        remote_id: str = "",
        at: datetime | None = None,
    ) -> InboundItem:
        n = next(counter)
        return InboundItem(
            remote_id=remote_id or f"m{n}",
            kind=kind,
            author=RemoteAuthor(
                remote_id=author_id or f"id-{author}", handle=author, followers_count=followers
            ),
            text=text,
            created_at=at or T0 + timedelta(minutes=n),
            conversation_key=key,
        )

    return make
