"""The inbox's live list reads what the pipeline stored: only operable channels, text escaped,
and channels whose reading failed are named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, ChannelOperator, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import ChannelCursor, Message
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def _say(channel: Channel, remote_id: str, text: str) -> None:
    author = RemoteAuthor(remote_id=f"id-{remote_id}", handle=f"persona_{remote_id}", followers_count=1200)
    when = datetime(2026, 11, 20, 10, int(remote_id), tzinfo=UTC)
    ingest(channel, [InboundItem(remote_id, InboundKind.MENTION, author, text, when)])


def test_the_list_shows_stored_messages_of_operable_channels_only() -> None:
    owner = make_user()
    organization = make_org(owner=owner)
    brand = make_brand(organization, "Marca")
    granted = connect_channel(Actor.system(), brand, "sandbox", "@marca_uno")
    other = connect_channel(Actor.system(), brand, "sandbox", "@marca_dos")
    _say(granted, "1", "<script>alert('x')</script> ¿abrís hoy?")
    _say(other, "2", "mensaje del otro canal")
    agent = make_member(organization, Role.COMMUNITY_MANAGER)
    ChannelOperator.objects.create(channel=granted, user=agent)
    ChannelCursor.objects.create(channel=granted, next_poll_at=datetime.now(UTC), failures=2)

    page = signed_in(agent).get(reverse("web:inbox-list")).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; ¿abrís hoy?" in page
    assert "<script>alert" not in page
    assert "mensaje del otro canal" not in page
    assert "1 channel is not shown" in page
    assert f"Could not read {granted.handle} right now" in page
    conversation = Message.objects.get(channel=granted).conversation
    opened = signed_in(agent).get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    assert "1,200 followers" in opened  # the author's reach, beside their message

    everything = signed_in(owner).get(reverse("web:inbox-list"), {"status": "all"}).content.decode()
    assert everything.index("mensaje del otro canal") < everything.index("abrís hoy")  # newest first
    assert "not shown" not in everything
