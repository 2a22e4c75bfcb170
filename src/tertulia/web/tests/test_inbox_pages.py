"""Working the inbox from the web: list, filters, search, one conversation, and every action on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox import network
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Channel, ChannelOperator, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import (
    AgentStatus,
    Conversation,
    Delivery,
    Direction,
    Message,
    Notification,
    SavedReply,
    Status,
)
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

HOSTILE = (
    "<script>alert('x')</script><img src=x onerror=alert(1)> \u202eevil\u202c \u200bzero 🧀" + "😡" * 300
)


@pytest.fixture
def world() -> tuple[Organization, Channel, User, User]:
    owner = make_user()
    organization = make_org(owner=owner)
    brand = make_brand(organization, "Marca")
    channel = connect_channel(Actor.system(), brand, "sandbox", "@marca_web")
    agent = make_member(organization, Role.COMMUNITY_MANAGER)
    ChannelOperator.objects.create(channel=channel, user=agent)
    return organization, channel, owner, agent


def _say(
    channel: Channel, remote_id: str, text: str, *, author: str = "cliente", minutes: int = 0
) -> Conversation:
    when = datetime.now(UTC) - timedelta(minutes=30 - minutes)
    item = InboundItem(
        remote_id, InboundKind.MENTION, RemoteAuthor(f"id-{author}", author, followers_count=50), text, when
    )
    ingest(channel, [item])
    return Message.objects.get(channel=channel, remote_id=remote_id).conversation


def test_the_list_filters_searches_and_escapes(world) -> None:
    _organization, channel, _owner, agent = world
    _say(channel, "1", "Mi pedido no ha llegado, es una vergüenza", minutes=1)
    _say(channel, "2", "¡Qué rico el queso! Gracias", author="fan", minutes=2)
    _say(channel, "3", HOSTILE, author="troll", minutes=3)
    client = signed_in(agent)

    page = client.get(reverse("web:inbox")).content.decode()
    assert "vergüenza" in page and "Qué rico" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page

    complaints = client.get(reverse("web:inbox-list"), {"intent": "complaint"}).content.decode()
    assert "vergüenza" in complaints and "Qué rico" not in complaints
    found = client.get(reverse("web:inbox-list"), {"q": "queso"}).content.decode()
    assert "Qué rico" in found and "vergüenza" not in found
    nothing = client.get(reverse("web:inbox-list"), {"q": "'; DROP TABLE inbox_message; --"})
    assert nothing.status_code == 200
    assert client.get(reverse("web:inbox-list"), {"status": "bogus", "channel": "x"}).status_code == 200


def _posted_on_the_sandbox(channel: Channel, text: str) -> Conversation:
    """A customer writes on the sandbox network; the reader brings it into the inbox."""
    customer = network.create_account("cliente_canario")
    post = network.post(customer, f"@{channel.handle.lstrip('@')} {text}")
    ingest(channel, connector_for(channel).fetch_inbound().items)
    return Message.objects.get(channel=channel, remote_id=str(post.pk)).conversation


def test_a_conversation_is_worked_end_to_end(world, django_capture_on_commit_callbacks) -> None:
    organization, channel, owner, agent = world
    conversation = _posted_on_the_sandbox(channel, "¿Hacéis envíos a Canarias?")
    client = signed_in(agent)
    url = reverse("web:conversation", args=[conversation.pk])
    assert client.get(url).status_code == 200
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 200

    client.post(reverse("web:conversation-assign", args=[conversation.pk]), {"assignee": "me"})
    client.post(reverse("web:conversation-tags", args=[conversation.pk]), {"add": "envíos, Canarias"})
    client.post(
        reverse("web:conversation-note", args=[conversation.pk]),
        {"text": f"@{owner.email.split('@')[0]} ¿lo miras?"},
    )
    with django_capture_on_commit_callbacks(execute=True):  # the delivery task runs after commit
        answer = client.post(
            reverse("web:conversation-reply", args=[conversation.pk]),
            {"text": "¡Sí! En 72 horas.", "idempotency_key": "k1", "then": "pending"},
            headers={"HX-Request": "true"},
        )
    assert answer.status_code == 200 and "X-Tertulia-Refused" not in answer
    again = client.post(
        reverse("web:conversation-reply", args=[conversation.pk]),
        {"text": "¡Sí! En 72 horas.", "idempotency_key": "k1"},
    )
    assert again.status_code == 302

    conversation.refresh_from_db()
    assert conversation.assignee == agent
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["canarias", "envíos"]
    assert conversation.status == Status.PENDING
    reply = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert reply.delivery == Delivery.SENT  # huey runs immediately in tests
    sent = network.get_post(reply.remote_id)
    assert sent.in_reply_to_id is not None and sent.text == "¡Sí! En 72 horas."
    assert conversation.first_response_at is not None and conversation.due_at is None
    assert Notification.objects.filter(user=owner, kind="mention", conversation=conversation).exists()
    actions = set(AuditEntry.objects.filter(object_id=str(conversation.pk)).values_list("action", flat=True))
    assert {"conversation.assign", "conversation.tags", "conversation.note", "conversation.reply"} <= actions

    refused = client.post(
        reverse("web:conversation-reply", args=[conversation.pk]),
        {"text": "   "},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 200 and refused["X-Tertulia-Refused"] == "1"
    assert organization.pk


def test_people_without_the_channel_see_nothing(world) -> None:
    organization, channel, _owner, _agent = world
    conversation = _say(channel, "1", "hola")
    outsider = make_member(organization, Role.COMMUNITY_MANAGER)
    client = signed_in(outsider)
    assert client.get(reverse("web:conversation", args=[conversation.pk])).status_code == 404
    assert (
        client.post(
            reverse("web:conversation-status", args=[conversation.pk]), {"status": "closed"}
        ).status_code
        == 404
    )
    other_org_owner = make_user()
    make_org(owner=other_org_owner)
    assert (
        signed_in(other_org_owner).get(reverse("web:conversation", args=[conversation.pk])).status_code == 404
    )
    analyst = make_member(organization, Role.ANALYST)
    assert (
        signed_in(analyst)
        .post(reverse("web:conversation-status", args=[conversation.pk]), {"status": "closed"})
        .status_code
        == 403
    )


def test_statuses_snooze_and_bulk(world) -> None:
    _organization, channel, owner, _agent = world
    first = _say(channel, "1", "uno", author="a")
    second = _say(channel, "2", "dos", author="b")
    client = signed_in(owner)
    client.post(reverse("web:conversation-status", args=[first.pk]), {"status": "snoozed", "snooze": "1h"})
    first.refresh_from_db()
    assert first.status == Status.SNOOZED and first.snoozed_until is not None and first.due_at is None
    client.post(reverse("web:conversation-status", args=[first.pk]), {"status": "open"})
    first.refresh_from_db()
    assert first.status == Status.OPEN and first.due_at is not None

    response = client.post(reverse("web:inbox-bulk"), {"action": "closed", "ids": [first.pk, second.pk]})
    assert response.status_code == 302
    assert set(Conversation.objects.values_list("status", flat=True)) == {Status.CLOSED}
    assert (
        client.post(reverse("web:inbox-bulk"), {"action": "closed"}).status_code == 302
    )  # nothing chosen: a message


def test_presence_warns_of_a_colleague(world) -> None:
    _organization, channel, owner, agent = world
    conversation = _say(channel, "1", "hola")
    signed_in(agent).post(reverse("web:conversation-presence", args=[conversation.pk]), {"state": "typing"})
    page = signed_in(owner).get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    assert "is writing a reply to this conversation" in page


def test_notifications_page(world) -> None:
    client: Client = signed_in(world[2])
    assert client.get(reverse("web:notifications")).status_code == 200
    assert client.get(reverse("web:notifications-badge")).status_code == 200
    assert client.post(reverse("web:notifications")).status_code == 302


def test_the_composer_offers_saved_replies_filled_in_and_the_contact_card(world) -> None:
    _organization, channel, owner, _agent = world
    conversation = _say(channel, "1", "Hola, ¿tenéis jamón ibérico de bellota?", author="clienta_jamon")
    conversation.language = "es"
    conversation.save(update_fields=["language"])
    SavedReply.objects.create(
        brand=channel.brand,
        shortcut="stock",
        language="es",
        title="Stock",
        body="¡Hola, {name}! Soy {agent}. <b>Sí</b>",
    )
    SavedReply.objects.create(
        brand=channel.brand, shortcut="stock", language="en", title="Stock", body="Hi {name}!"
    )
    owner.display_name = "Lucía Romero"
    owner.save()
    client = signed_in(owner)
    page = client.get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    assert "¡Hola, clienta_jamon! Soy Lucía. &lt;b&gt;Sí&lt;/b&gt;" in page
    assert "Hi clienta_jamon" not in page  # one version per shortcut, in the conversation's language
    assert 'class="card contact-card"' in page
    prefilled = client.get(
        reverse("web:conversation", args=[conversation.pk]), {"reply": "stock"}
    ).content.decode()
    assert ">¡Hola, clienta_jamon! Soy Lucía. &lt;b&gt;Sí&lt;/b&gt;</textarea>" in prefilled


def test_a_person_marks_themselves_away_and_sets_their_capacity(world) -> None:
    organization, _channel, _owner, agent = world
    client = signed_in(agent)
    assert 'name="capacity"' in client.get(reverse("web:inbox")).content.decode()
    client.post(reverse("web:inbox-availability"), {"capacity": "5"})  # unticked: away
    status = AgentStatus.objects.get(membership__user=agent, membership__organization=organization)
    assert (status.available, status.capacity) == (False, 5)
    client.post(reverse("web:inbox-availability"), {"available": "on", "capacity": "-3"})
    status.refresh_from_db()
    assert (status.available, status.capacity) == (False, 5)  # refused whole: nothing half-saved
    analyst = make_member(organization, Role.ANALYST)
    assert signed_in(analyst).post(reverse("web:inbox-availability"), {"capacity": "1"}).status_code == 403
