"""Fixtures shared by the crisis mode tests (test_mode_*.py): a team, a playbook, a conversation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox import network
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member
from tertulia.core.models import Brand, BrandAccess, Channel, Membership, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.crisis.models import HoldingStatement, Playbook, PlaybookStep
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, Message

HOSTILE = '<script>alert("x")</script>\u200b\u202e🔥 <img src=x onerror=alert(1)>'


@dataclass
class Team:
    org: Organization
    brand: Brand
    other_brand: Brand
    owner: User
    manager: User  # brand manager: runs crisis mode
    cm: User  # community manager operating the channel
    colleague: User  # another community manager
    limited: User  # brand manager limited to the other brand
    contributor: User
    channel: Channel


def member(org: Organization, role: str, email: str) -> User:
    user = User.objects.create_user(email=email, display_name=email.split("@")[0].title())
    add_member(Actor.system("test"), org, user, role)
    return user


@pytest.fixture
def team(db: None) -> Team:
    org = make_org("Crisis SA", owner=User.objects.create_user(email="duena@example.com"))
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    brand = make_brand(org, "Marca")
    other = make_brand(org, "Otra")
    manager = member(org, Role.BRAND_MANAGER, "gestora@example.com")
    cm = member(org, Role.COMMUNITY_MANAGER, "cm@example.com")
    colleague = member(org, Role.COMMUNITY_MANAGER, "colega@example.com")
    limited = member(org, Role.BRAND_MANAGER, "limitada@example.com")
    membership = Membership.objects.get(organization=org, user=limited)
    membership.all_brands = False
    membership.save(update_fields=["all_brands"])
    BrandAccess.objects.create(membership=membership, brand=other)
    contributor = member(org, Role.CONTRIBUTOR, "aporta@example.com")
    channel = connect_channel(Actor.system(), brand, "sandbox", "@marca_crisis", "Marca")
    set_channel_operators(Actor.system(), channel, [cm, colleague])
    # Whatever a brand gets by default, these tests bring their own playbook.
    Playbook.objects.filter(organization=org).delete()
    return Team(org, brand, other, owner, manager, cm, colleague, limited, contributor, channel)


def web(user: User | None) -> Actor:
    return Actor(user=user, via="web", ip_address="203.0.113.10", user_agent="Firefox/133.0")


def make_playbook(
    brand: Brand, *, default: bool = True, approved: bool = True, name: str = "Caída del servicio"
) -> Playbook:
    playbook = Playbook.objects.create(
        organization=brand.organization, brand=brand, name=name, is_default=default
    )
    for n, (title, role) in enumerate(
        [("Reúne al equipo", "lead"), ("Publica la respuesta de espera", "spokesperson"), ("Vigila", "")],
        start=1,
    ):
        PlaybookStep.objects.create(playbook=playbook, position=n, title=title, role=role)
    for language, body in (("es", "Hola {name}, lo estamos revisando."), ("en", "Hi {name}, we are on it.")):
        HoldingStatement.objects.create(
            playbook=playbook,
            shortcut="espera",
            language=language,
            title="Respuesta de espera",
            body=body,
            approved_at=timezone.now() if approved else None,
        )
    HoldingStatement.objects.create(
        playbook=playbook,
        shortcut="borrador",
        language="es",
        title="Sin aprobar",
        body="No",
        approved_at=None,
    )
    return playbook


def mention(channel: Channel, text: str = "¿Qué ha pasado?", who: str = "clienta_crisis") -> Conversation:
    posted = network.post(network.create_account(who), f"@{channel.handle.lstrip('@')} {text}")
    ingest(channel, connector_for(channel).fetch_inbound().items)
    return Message.objects.get(channel=channel, remote_id=str(posted.pk)).conversation
