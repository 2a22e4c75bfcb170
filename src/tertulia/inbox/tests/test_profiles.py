"""Contact context: one person's handles, reach, flags and history with a brand, in a few queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tertulia.connectors.base import InboundKind
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Contact, ContactHandle
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, Intent, Sentiment
from tertulia.inbox.profiles import (
    REGULAR_CONVERSATIONS,
    REGULAR_WINDOW,
    contact_profile,
    important_contact_ids,
)
from tertulia.inbox.tests.conftest import T0

pytestmark = pytest.mark.django_db

SOON = T0 + timedelta(days=1)


def _ours(channel, item, text: str, key: str):
    """An answer written by the brand's own account on the network."""
    return item(
        text, kind=InboundKind.DIRECT_MESSAGE, key=key, author=channel.handle, author_id=channel.external_id
    )


def _contact(channel, handle: str = "ana") -> Contact:
    return ContactHandle.objects.get(organization=channel.organization, handle=handle).contact


def test_history_counts_what_they_wrote_and_what_we_answered(channel, item) -> None:
    ingest(
        channel,
        [
            item("¿Abrís el domingo?", kind=InboundKind.DIRECT_MESSAGE, key="dm-ana"),
            _ours(channel, item, "Sí, de 10 a 14", key="dm-ana"),
            item("¡Gracias!", kind=InboundKind.DIRECT_MESSAGE, key="dm-ana"),
            item("Me encanta el nuevo local"),
            item("El pedido llegó roto, qué desastre"),
            item("Hola a todos", author="bea"),
        ],
    )
    contact = _contact(channel)
    profile = contact_profile(contact, channel.brand, now=SOON)

    history = profile.history
    assert history.conversations == 3  # the DM thread and two loose mentions; not bea's
    assert history.messages_in == 4 and history.messages_out == 1
    assert history.first_contact_at == T0 + timedelta(minutes=1)
    assert history.last_contact_at == T0 + timedelta(minutes=5)
    assert sum(history.sentiments.values()) == 4 and set(history.sentiments) == set(Sentiment.values)
    assert sum(history.intents.values()) == 4 and set(history.intents) == set(Intent.values)
    assert sum(s.count for s in history.sentiment_mix()) == 4
    assert all(s.count for s in history.intent_mix())
    assert [c.preview for c in history.latest] == [
        "El pedido llegó roto, qué desastre",
        "Me encanta el nuevo local",
        "¡Gracias!",
    ]
    assert history.latest[0].channel_handle == channel.handle
    assert [h.handle for h in profile.handles] == ["ana"] and profile.reach == 10
    assert profile.regular  # three conversations within the window
    assert (profile.contact_id, profile.brand_id, profile.display_name) == (
        contact.pk,
        channel.brand.pk,
        "ana",
    )


def test_a_thread_they_joined_is_part_of_their_history(channel, item) -> None:
    ingest(
        channel,
        [
            item("¿Qué os parece?", kind=InboundKind.REPLY, key="post-1", author="bea"),
            item("A mí me gusta", kind=InboundKind.REPLY, key="post-1", author="ana"),
        ],
    )
    ana = contact_profile(_contact(channel, "ana"), channel.brand, now=SOON)
    assert ana.history.conversations == 1 and ana.history.messages_in == 1
    assert Conversation.objects.get(key="post-1").contact == _contact(channel, "bea")  # bea started it


def test_flags_customer_vip_influencer_regular(channel, item) -> None:
    brand = channel.brand
    brand.reach_threshold = 5000
    brand.save()
    ingest(channel, [item("uno", followers=4999), item("dos"), item("tres", at=T0 - timedelta(days=100))])
    contact = _contact(channel)

    profile = contact_profile(contact, brand, now=SOON)
    assert (profile.customer, profile.vip, profile.influencer, profile.important) == (False,) * 4
    assert profile.history.recent_conversations == 2 < REGULAR_CONVERSATIONS and not profile.regular
    assert profile.history.conversations == 3

    ContactHandle.objects.filter(contact=contact).update(followers_count=5000)
    contact.refresh_from_db()
    profile = contact_profile(contact, brand, now=SOON)
    assert profile.influencer and profile.important and profile.reach == 5000

    contact.is_vip = True
    contact.is_customer = True
    profile = contact_profile(contact, brand, now=T0 + REGULAR_WINDOW * 3)
    assert profile.vip and profile.customer and profile.important
    assert profile.history.recent_conversations == 0


def test_a_contact_without_history_or_handles(channel) -> None:
    contact = Contact.objects.create(organization=channel.organization, display_name="Nadie")
    profile = contact_profile(contact, channel.brand)
    assert profile.handles == [] and profile.reach == 0 and not profile.important
    assert profile.history.conversations == 0 and profile.history.latest == []
    assert profile.history.first_contact_at is None
    assert set(profile.history.sentiments) == set(Sentiment.values)


def test_history_is_per_brand_and_listed_conversations_per_channel(channel, item) -> None:
    second = connect_channel(Actor.system(), channel.brand, "sandbox", "@marca_dos")
    other_brand = make_brand(channel.organization, "Otra")
    elsewhere = connect_channel(Actor.system(), other_brand, "sandbox", "@otra_marca")
    ingest(channel, [item("en el primero")])
    ingest(second, [item("en el segundo")])
    ingest(elsewhere, [item("en otra marca")])
    contact = _contact(channel)

    everything = contact_profile(contact, channel.brand, now=SOON)
    assert everything.history.conversations == 2
    assert {c.preview for c in everything.history.latest} == {"en el primero", "en el segundo"}

    operable = contact_profile(contact, channel.brand, channels=[second], now=SOON)
    assert operable.history.conversations == 2  # figures cover the whole history
    assert [c.preview for c in operable.history.latest] == ["en el segundo"]

    assert contact_profile(contact, other_brand, now=SOON).history.conversations == 1


def test_a_brand_of_another_organization_is_refused(channel) -> None:
    contact = Contact.objects.create(organization=channel.organization, display_name="Ana")
    with pytest.raises(ValueError):
        contact_profile(contact, make_brand(make_org()))


def test_profile_queries_are_bounded_whatever_the_history(
    channel, item, django_assert_max_num_queries
) -> None:
    items = []
    for n in range(60):
        key = f"dm-{n % 20}"
        items.append(item(f"mensaje {n}", kind=InboundKind.DIRECT_MESSAGE, key=key))
        items.append(_ours(channel, item, f"respuesta {n}", key=key))
        items.append(item(f"mención {n}"))
    ingest(channel, items)
    contact = Contact.objects.get(pk=_contact(channel).pk)

    with django_assert_max_num_queries(5):
        profile = contact_profile(contact, channel.brand, now=SOON)
    assert profile.history.conversations == 80 and profile.history.messages_in == 120
    assert profile.history.messages_out == 60 and len(profile.history.latest) == 5


def test_important_contact_ids_in_one_query(channel, django_assert_num_queries) -> None:
    org = channel.organization
    brand = channel.brand
    brand.reach_threshold = 1000

    def person(name: str, followers: int | None = None, **flags: bool) -> int:
        contact = Contact.objects.create(organization=org, display_name=name, **flags)
        if followers is not None:
            ContactHandle.objects.create(
                organization=org, contact=contact, network="sandbox", handle=name, followers_count=followers
            )
        return contact.pk

    customer = person("cliente", 5, is_customer=True)
    vip = person("vip", is_vip=True)
    famous = person("famosa", 1000)
    nobody = person("nadie", 999)
    bare = person("sin_cuentas")
    foreign_org = make_org()
    foreign = Contact.objects.create(organization=foreign_org, display_name="x", is_customer=True).pk

    with django_assert_num_queries(1):
        found = important_contact_ids(brand, [customer, vip, famous, nobody, bare, foreign, None])
    assert found == {customer, vip, famous}
    with django_assert_num_queries(0):
        assert important_contact_ids(brand, []) == set()

    brand.reach_threshold = 0  # everyone reaches it
    assert important_contact_ids(brand, [nobody, bare, foreign]) == {nobody, bare}
