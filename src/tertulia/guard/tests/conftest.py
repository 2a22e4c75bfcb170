from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox import network
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member
from tertulia.core.models import Brand, Channel, Membership, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, Message
from tertulia.publishing.models import Post, PostState, Variant

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CURL = "curl/8.5.0"
OFFICE = "203.0.113.10"
ELSEWHERE = "198.51.100.66"
SCAM = "🎉 Crypto giveaway! Send 1 BTC and get 2 BTC back: https://claim-btc.example.xyz/now"


@dataclass
class Team:
    org: Organization
    brand: Brand
    owner: User
    author: User  # community manager who operates the channel
    colleague: User  # another community manager on the same channel
    outsider: User  # community manager without a grant on the channel
    contributor: User
    channel: Channel


def member(org: Organization, role: str, email: str) -> User:
    """A member without a password (hashing one costs a second; these tests sign in with force_login)."""
    user = User.objects.create_user(email=email)
    add_member(Actor.system("test"), org, user, role)
    return user


@pytest.fixture
def team(db: None) -> Team:
    org = make_org("Guardia SA", owner=User.objects.create_user(email="duena@example.com"))
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    brand = make_brand(org, "Marca")
    author = member(org, Role.COMMUNITY_MANAGER, "autora@example.com")
    colleague = member(org, Role.COMMUNITY_MANAGER, "colega@example.com")
    outsider = member(org, Role.COMMUNITY_MANAGER, "ajena@example.com")
    contributor = member(org, Role.CONTRIBUTOR, "aporta@example.com")
    channel = connect_channel(Actor.system(), brand, "sandbox", "@marca_guardia", "Marca")
    set_channel_operators(Actor.system(), channel, [author, colleague])
    return Team(org, brand, owner, author, colleague, outsider, contributor, channel)


def actor(user: User | None, ip: str | None = OFFICE, agent: str = FIREFOX) -> Actor:
    return Actor(user=user, via="web", ip_address=ip, user_agent=agent)


PostMaker = Callable[..., Post]


@pytest.fixture
def make_post(team: Team) -> PostMaker:
    def make(
        text: str = "Hola desde la tienda",
        *,
        channels: list[Channel] | None = None,
        author: User | None = None,
    ) -> Post:
        post = Post.objects.create(
            organization=team.org,
            brand=team.brand,
            created_by=author or team.author,
            text=text,
            state=PostState.APPROVED,
        )
        for channel in channels or [team.channel]:
            Variant.objects.create(post=post, channel=channel)
        return post

    return make


def mention(channel: Channel, text: str = "¿Abrís el domingo?", who: str = "clienta_guardia") -> Conversation:
    posted = network.post(network.create_account(who), f"@{channel.handle.lstrip('@')} {text}")
    ingest(channel, connector_for(channel).fetch_inbound().items)
    return Message.objects.get(channel=channel, remote_id=str(posted.pk)).conversation
