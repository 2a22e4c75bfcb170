"""The contact page: profile, editing what the team knows, and merging duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Channel, ChannelOperator, Contact, ContactHandle, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org, make_user
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.profiles import contact_profile
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

HOSTILE_NAME = "<script>alert('name')</script>\u202eevil"
HOSTILE_NOTES = "<img src=x onerror=alert('notes')>\nsegunda línea"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop():
    owner = make_user()
    org = make_org(owner=owner)
    brand = make_brand(org, "Marca")
    brand.reach_threshold = 1000
    brand.save()
    channel = connect_channel(Actor.system(), brand, "sandbox", "@marca")
    return org, owner, channel


def _say(
    channel: Channel, n: int, text: str, author: str = "ana", followers: int = 50, key: str = ""
) -> Contact:
    item = InboundItem(
        remote_id=f"m{n}",
        kind=InboundKind.DIRECT_MESSAGE if key else InboundKind.MENTION,
        author=RemoteAuthor(remote_id=f"id-{author}", handle=author, followers_count=followers),
        text=text,
        created_at=T0 + timedelta(minutes=n),
        conversation_key=key,
    )
    ingest(channel, [item])
    return ContactHandle.objects.get(organization=channel.organization, handle=author).contact


def _url(contact: Contact) -> str:
    return reverse("web:contact", args=[contact.pk])


def test_an_analyst_sees_the_profile_but_cannot_change_it(shop) -> None:
    org, _owner, channel = shop
    contact = _say(channel, 1, "¿Abrís el domingo?", followers=2500)
    analyst = signed_in(make_member(org, Role.ANALYST))

    response = analyst.get(_url(contact))
    page = response.content.decode()
    assert response.status_code == 200
    assert "@ana" in page and "2,500" in page and "Influencer" in page
    assert "History with Marca" in page
    assert "¿Abrís el domingo?" not in page  # not an operator of the channel: figures, no text
    assert "Conversations on 1 channel are not listed" in page
    assert 'id="link-contact"' not in page
    form = page.split('id="contact-form"')[1]
    assert " disabled" in form and 'type="submit"' not in form.split("</form>")[0]

    assert analyst.post(_url(contact), {"display_name": "Otro"}).status_code == 403
    other = Contact.objects.create(organization=org, display_name="Ana bis")
    merge = reverse("web:contact-merge", args=[contact.pk])
    assert analyst.post(merge, {"other": other.pk, "confirm": "on"}).status_code == 403
    contact.refresh_from_db()
    assert contact.display_name == "ana" and Contact.objects.filter(pk=other.pk).exists()


def test_an_operator_sees_the_conversations(shop) -> None:
    org, _owner, channel = shop
    contact = _say(channel, 1, "¿Abrís el domingo?")
    agent = make_member(org, Role.COMMUNITY_MANAGER)
    ChannelOperator.objects.create(channel=channel, user=agent)
    page = signed_in(agent).get(_url(contact)).content.decode()
    assert "¿Abrís el domingo?" in page and "not listed" not in page
    assert 'id="link-contact"' in page


def test_a_contributor_cannot_see_contacts_and_other_organizations_are_not_found(shop) -> None:
    org, owner, channel = shop
    contact = _say(channel, 1, "hola")
    assert signed_in(make_member(org, Role.CONTRIBUTOR)).get(_url(contact)).status_code == 403

    stranger = make_user()
    make_brand(make_org(owner=stranger))
    assert signed_in(stranger).get(_url(contact)).status_code == 404
    assert signed_in(stranger).post(_url(contact), {"display_name": "x"}).status_code == 404
    assert signed_in(owner).get(reverse("web:contact", args=[999999])).status_code == 404
    assert signed_in(make_user()).get(_url(contact)).status_code == 403  # no organization at all


def test_editing_flags_and_notes_is_audited_and_hostile_text_is_escaped(shop) -> None:
    org, owner, channel = shop
    contact = _say(channel, 1, "hola")
    agent = signed_in(make_member(org, Role.COMMUNITY_MANAGER))

    response = agent.post(
        _url(contact),
        {"display_name": HOSTILE_NAME, "is_customer": "on", "is_vip": "on", "notes": HOSTILE_NOTES},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.display_name, contact.notes) == (HOSTILE_NAME, HOSTILE_NOTES)
    assert contact.is_customer and contact.is_vip
    assert AuditEntry.objects.filter(action="contact.update", object_id=str(contact.pk)).exists()

    page = signed_in(owner).get(_url(contact)).content.decode()
    assert "<script>alert('name')" not in page and "&lt;script&gt;alert(&#x27;name&#x27;)" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(&#x27;notes&#x27;)&gt;" in page
    assert "Customer" in page and "VIP" in page and "Important person" in page


def test_a_bad_edit_is_refused_with_the_reason(shop) -> None:
    _org, owner, channel = shop
    contact = _say(channel, 1, "hola")
    response = signed_in(owner).post(_url(contact), {"display_name": "", "notes": "x" * 20_001})
    assert response.status_code == 400
    assert response.content.decode().count('class="field-error"') == 2
    contact.refresh_from_db()
    assert contact.display_name == "ana"


def test_finding_and_merging_another_contact(shop) -> None:
    _org, owner, channel = shop
    into = _say(channel, 1, "hola", author="ana_x", key="dm-1")
    other = _say(channel, 2, "soy yo", author="ana_bsky")
    Contact.objects.filter(pk=other.pk).update(display_name="Ana <b>B</b>", is_customer=True)
    foreign = Contact.objects.create(organization=make_org(), display_name="ana_foreign")
    client = signed_in(owner)

    found = client.get(_url(into), {"q": "ana"}).content.decode()
    assert "Ana &lt;b&gt;B&lt;/b&gt;" in found and f'name="other" value="{other.pk}"' in found
    assert "ana_foreign" not in found
    assert f'name="other" value="{into.pk}"' not in found  # not itself
    by_number = client.get(_url(into), {"q": f"#{other.pk}"}).content.decode()
    assert f'name="other" value="{other.pk}"' in by_number

    merge = reverse("web:contact-merge", args=[into.pk])
    unconfirmed = client.post(merge, {"other": other.pk, "reason": "misma persona"})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.content.decode()
    assert Contact.objects.filter(pk=other.pk).exists()
    assert client.post(merge, {"other": foreign.pk, "confirm": "on"}).status_code == 404
    assert client.post(merge, {"other": into.pk, "confirm": "on"}).status_code == 302  # refused, explained
    assert Contact.objects.filter(pk=into.pk).exists()

    response = client.post(
        merge, {"other": other.pk, "confirm": "on", "reason": "misma persona"}, follow=True
    )
    page = response.content.decode()
    assert "Ana &lt;b&gt;B&lt;/b&gt; was merged into ana_x." in page
    assert not Contact.objects.filter(pk=other.pk).exists()
    into.refresh_from_db()
    assert into.is_customer and into.handles.count() == 2
    assert AuditEntry.objects.get(action="contact.merge").changes["reason"] == "misma persona"
    assert "@ana_bsky" in page and "soy yo" in page  # its conversation is now here


def test_the_page_costs_the_same_queries_whatever_the_history(shop) -> None:
    _org, owner, channel = shop
    contact = _say(channel, 1, "hola", key="dm-0")
    client = signed_in(owner)
    client.get(_url(contact))  # warm up (sessions, content types)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_url(contact)).status_code == 200
        return len(captured)

    few = queries()
    for n in range(2, 60):
        _say(channel, n, f"mensaje {n}", key=f"dm-{n % 15}" if n % 2 else "")
    assert queries() == few


def test_the_card_partial_is_compact_and_escaped(shop) -> None:
    _org, _owner, channel = shop
    contact = _say(channel, 1, "hola", followers=1500)
    Contact.objects.filter(pk=contact.pk).update(display_name=HOSTILE_NAME, notes=HOSTILE_NOTES, is_vip=True)
    contact.refresh_from_db()
    html = render_to_string(
        "web/partials/contact_card.html", {"profile": contact_profile(contact, channel.brand)}
    )
    assert f'href="{_url(contact)}"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "segunda línea" in html
    assert "VIP" in html and "Influencer" in html and "1,500" in html
    assert "1 conversation with Marca" in html
