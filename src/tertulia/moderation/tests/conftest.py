"""A brand like the demo's (reach threshold 5,000) on a sandbox channel, its team, and helpers to
put messages through the real ingestion pipeline."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
from tertulia.core.actions.brands import update_brand
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Message
from tertulia.moderation.actions.rules import create_rule
from tertulia.moderation.models import ModerationRule

SYSTEM = Actor.system("tests")
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@dataclass
class World:
    org: Organization
    brand: Brand
    channel: Channel
    owner: User
    manager: User  # brand manager: may approve
    cm: User  # community manager, operator of the channel: may moderate, not approve
    cm2: User  # another community manager, operator too
    outsider: User  # community manager without a grant on the channel


@pytest.fixture
def world(db: None) -> World:
    org = make_org("Despensa")
    brand = make_brand(org, "La Despensa")
    update_brand(SYSTEM, brand, reach_threshold=5000)
    channel = connect_channel(SYSTEM, brand, "sandbox", "despensa_mod", "La Despensa")
    manager = make_member(org, Role.BRAND_MANAGER, display_name="Marcos")
    cm = make_member(org, Role.COMMUNITY_MANAGER, display_name="Lucía")
    cm2 = make_member(org, Role.COMMUNITY_MANAGER, display_name="Pepa")
    outsider = make_member(org, Role.COMMUNITY_MANAGER, display_name="Fuera")
    set_channel_operators(SYSTEM, channel, [manager, cm, cm2])
    owner = org.memberships.get(role=Role.OWNER).user
    return World(org, brand, channel, owner, manager, cm, cm2, outsider)


def rule(
    world: World, conditions: dict[str, Any], actions: list[dict[str, Any]], **kw: Any
) -> ModerationRule:
    kw.setdefault("enabled", True)
    kw.setdefault("name", f"rule {next(_names)}")
    return create_rule(SYSTEM, world.brand, conditions=conditions, actions=actions, **kw)


_names = itertools.count(1)
ItemMaker = Callable[..., InboundItem]


@pytest.fixture
def item() -> ItemMaker:
    counter = itertools.count(1)

    def make(
        text: str = "hola",
        *,
        kind: InboundKind = InboundKind.REPLY,
        author: str = "ana",
        followers: int = 10,
        key: str = "",
        remote_id: str = "",
    ) -> InboundItem:
        n = next(counter)
        return InboundItem(
            remote_id=remote_id or f"m{n}",
            kind=kind,
            author=RemoteAuthor(remote_id=f"id-{author}", handle=author, followers_count=followers),
            text=text,
            created_at=T0 + timedelta(minutes=n),
            conversation_key=key or f"thread-{n}",
        )

    return make


def ingest_items(channel: Channel, items: list[InboundItem]) -> list[Message]:
    return [Message.objects.get(pk=m.pk) for m in ingest(channel, items).created]


SPAM = "Gana 500 € desde casa sin experiencia 👉 https://promo78.example/ffxktq"
INSULT = "Sois unos inútiles, así de claro"
COMPLAINT = "Mi pedido llegó roto y nadie me contesta, quiero un reembolso"
QUESTION = "¿A qué hora abrís mañana?"
