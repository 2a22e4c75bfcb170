"""One person across networks: merging two contacts, and moving one handle to another contact.

Core never imports the inbox; these tests do, to check that conversations follow the person.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
from tertulia.core.actions import contacts
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Channel, Contact, ContactHandle
from tertulia.core.tests.factories import make_brand, make_org, make_user

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def live(monkeypatch) -> list[tuple[int, str]]:
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(contacts, "notify_organization", lambda org, topic, **_: sent.append((org, topic)))
    return sent


@pytest.fixture
def channel() -> Channel:
    return connect_channel(Actor.system(), make_brand(make_org()), "sandbox", "@marca")


def _write(channel: Channel, remote_id: str, author: str, text: str = "hola", key: str = "") -> ContactHandle:
    from tertulia.inbox.ingest.pipeline import ingest

    item = InboundItem(
        remote_id=remote_id,
        kind=InboundKind.DIRECT_MESSAGE if key else InboundKind.MENTION,
        author=RemoteAuthor(remote_id=f"id-{author}", handle=author, followers_count=100),
        text=text,
        created_at=WHEN,
        conversation_key=key,
    )
    ingest(channel, [item])
    return ContactHandle.objects.get(organization=channel.organization, handle=author)


def test_merging_moves_handles_conversations_and_flags(channel, live) -> None:
    org = channel.organization
    ana_x = _write(channel, "1", "ana_x", key="dm-1")
    ana_bsky = _write(channel, "2", "ana.bsky.social")
    into = ana_x.contact
    other = ana_bsky.contact
    contacts.update_contact(Actor.system(), into, notes="Compra cada semana.")
    contacts.update_contact(
        Actor.system(), other, is_customer=True, is_vip=True, notes="Periodista de <b>El Diario</b>."
    )
    user = make_user()
    actor = Actor(user=user, via="web", ip_address="127.0.0.1")
    live.clear()

    merged = contacts.merge_contacts(actor, into, other, reason="Same photo and bio on both networks")

    assert not Contact.objects.filter(pk=other.pk).exists()
    assert set(merged.handles.values_list("handle", flat=True)) == {"ana_x", "ana.bsky.social"}
    assert merged.conversations.count() == 2
    assert (merged.is_customer, merged.is_vip) == (True, True)
    assert merged.notes == "Compra cada semana.\n\nPeriodista de <b>El Diario</b>."
    assert merged.display_name == "ana_x"
    assert merged.followers == 100

    entry = AuditEntry.objects.get(action="contact.merge")
    assert entry.object_id == str(into.pk) and entry.actor == user and entry.ip_address == "127.0.0.1"
    assert entry.changes["reason"] == "Same photo and bio on both networks"
    assert entry.changes["merged"]["id"] == other.pk
    assert entry.changes["merged"]["handles"] == ["sandbox:ana.bsky.social"]
    assert entry.changes["merged"]["moved"] == {"core.contacthandle": 1, "inbox.conversation": 1}
    assert entry.changes["is_vip"] == [False, True]
    assert (org.pk, "contacts") in live and (org.pk, "inbox") in live


def test_the_same_person_writing_again_lands_on_the_merged_contact(channel) -> None:
    into = _write(channel, "1", "ana_x").contact
    other = _write(channel, "2", "ana_y").contact
    contacts.merge_contacts(Actor.system(), into, other)
    handle = _write(channel, "3", "ana_y", text="otra vez")
    assert handle.contact_id == into.pk
    from tertulia.inbox.models import Conversation

    assert Conversation.objects.filter(contact=into).count() == 3


def test_merging_is_refused_across_organizations_and_into_itself(channel, live) -> None:
    mine = Contact.objects.create(organization=channel.organization, display_name="Ana")
    theirs = Contact.objects.create(organization=make_org(), display_name="Ana")
    with pytest.raises(contacts.MergeRefused):
        contacts.merge_contacts(Actor.system(), mine, theirs)
    with pytest.raises(contacts.MergeRefused):
        contacts.merge_contacts(Actor.system(), mine, mine)
    assert Contact.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    assert not AuditEntry.objects.filter(action="contact.merge").exists()
    assert live == []


def test_a_contact_removed_meanwhile_is_refused(channel) -> None:
    into = Contact.objects.create(organization=channel.organization, display_name="Ana")
    other = Contact.objects.create(organization=channel.organization, display_name="Ana bis")
    Contact.objects.filter(pk=other.pk).delete()
    with pytest.raises(contacts.MergeRefused):
        contacts.merge_contacts(Actor.system(), into, other)


def test_notes_are_not_repeated(channel) -> None:
    into = Contact.objects.create(organization=channel.organization, display_name="A", notes="Cliente VIP")
    other = Contact.objects.create(organization=channel.organization, display_name="B", notes="Cliente VIP")
    assert contacts.merge_contacts(Actor.system(), into, other).notes == "Cliente VIP"
    empty = Contact.objects.create(organization=channel.organization, display_name="C")
    other = Contact.objects.create(organization=channel.organization, display_name="D", notes="Nota")
    assert contacts.merge_contacts(Actor.system(), empty, other).notes == "Nota"


def test_every_relation_to_a_contact_is_one_merge_knows_how_to_move() -> None:
    # A new model pointing at Contact in another way (many-to-many, one-to-one) needs merge_contacts
    # taught how to move it; this fails first, so nobody loses links silently.
    assert all(relation.one_to_many for relation in Contact._meta.related_objects)


def test_linking_one_handle_moves_it_with_the_conversations_it_wrote(channel, live) -> None:
    ana = _write(channel, "1", "ana", key="dm-ana")
    alias = _write(channel, "2", "ana_alias", key="dm-alias")
    old = alias.contact
    contacts.add_handle(Actor.system(), old, "bluesky", "someone.else", followers_count=3)
    live.clear()

    contacts.link_handle(Actor.system(), alias, ana.contact, reason="Told us in a DM")

    alias.refresh_from_db()
    assert alias.contact_id == ana.contact_id
    assert ana.contact.conversations.count() == 2
    assert Contact.objects.filter(pk=old.pk).exists()  # keeps its other handle
    assert list(old.handles.values_list("handle", flat=True)) == ["someone.else"]
    entry = AuditEntry.objects.get(action="contact.handle.link")
    assert entry.changes["contact"] == [old.pk, ana.contact_id] and entry.changes["conversations"] == 1
    assert entry.changes["reason"] == "Told us in a DM"
    assert (channel.organization_id, "inbox") in live

    elsewhere = Contact.objects.create(organization=make_org(), display_name="x")
    with pytest.raises(contacts.MergeRefused):
        contacts.link_handle(Actor.system(), alias, elsewhere)


def test_update_contact_marks_a_vip_by_hand(channel) -> None:
    contact = contacts.create_contact(Actor.system(), channel.organization, display_name="Ana", is_vip=True)
    assert contact.is_vip
    contacts.update_contact(Actor.system(), contact, is_vip=False)
    assert AuditEntry.objects.filter(action="contact.update", changes__is_vip=[True, False]).exists()
