"""The guidelines library's pages and the links to it from where the guidelines apply."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from tertulia.core.actions.brands import update_brand
from tertulia.core.models import User
from tertulia.crisis.models import Playbook
from tertulia.moderation.models import ModerationRule
from tertulia.portal.actions.guidelines import GuidelineIn, create_guideline
from tertulia.portal.models import Guideline, GuidelineVersion
from tertulia.portal.tests.conftest import SYSTEM, World, actor
from tertulia.portal.tests.conftest import world as world  # the fixture
from tertulia.web.tenant import SESSION_BRAND
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

LIBRARY = reverse("web:guidelines")
HOSTILE = "<script>alert(1)</script>\n\n- <b>uno</b>\n- [x](javascript:alert(2)) https://ok.example/"


def on_brand(user: User, brand_id: int) -> Client:
    client = signed_in(user)
    session = client.session
    session[SESSION_BRAND] = brand_id
    session.save()
    return client


def test_the_library_shows_the_brand_pieces_and_links_to_the_rest(world: World) -> None:
    update_brand(SYSTEM, world.north, voice_guide="Cercano.\n\n- tuteamos")
    Playbook.objects.create(organization=world.org, brand=world.north, name="Caída del servicio")
    ModerationRule.objects.create(
        organization=world.org, brand=world.north, name="Ocultar spam", enabled=True
    )
    create_guideline(
        actor(world.manager), world.north, GuidelineIn(kind="community", title="Normas del foro")
    )
    create_guideline(actor(world.manager), world.south, GuidelineIn(kind="community", title="Normas del sur"))
    page = on_brand(world.contributor, world.north.pk).get(LIBRARY).content.decode()
    assert '<ul dir="auto"><li>tuteamos</li></ul>' in page
    assert "Caída del servicio" in page and "Ocultar spam" in page and "Normas del foro" in page
    assert "Normas del sur" not in page
    assert 'id="guideline-new-link"' not in page
    assert 'id="guideline-new-link"' in on_brand(world.manager, world.north.pk).get(LIBRARY).content.decode()


def test_a_member_limited_to_a_brand_sees_only_its_guidelines(world: World) -> None:
    north = create_guideline(actor(world.manager), world.north, GuidelineIn(kind="legal", title="Solo norte"))
    client = on_brand(world.limited, world.north.pk)  # the session asks for a brand they are not in
    assert "Solo norte" not in client.get(LIBRARY).content.decode()
    assert client.get(reverse("web:guideline", args=[north.pk])).status_code == 404
    assert signed_in(world.outsider).get(reverse("web:guideline", args=[north.pk])).status_code == 404


def test_hostile_text_is_rendered_inert(world: World) -> None:
    made = create_guideline(
        actor(world.manager), world.north, GuidelineIn(kind="voice", title="<i>T</i>", body=HOSTILE)
    )
    page = signed_in(world.contributor).get(reverse("web:guideline", args=[made.pk])).content.decode()
    assert "<script>alert(1)" not in page and "<b>uno</b>" not in page and "<i>T</i>" not in page
    assert "&lt;script&gt;" in page and 'href="javascript' not in page
    assert '<a href="https://ok.example/" rel="nofollow noopener">' in page


def test_editing_needs_manage_brands(world: World) -> None:
    made = create_guideline(actor(world.manager), world.north, GuidelineIn(kind="voice", title="Tono"))
    edit = reverse("web:guideline-edit", args=[made.pk])
    for person in (world.cm, world.contributor, world.analyst):
        client = on_brand(person, world.north.pk)
        assert client.get(edit).status_code == 403
        assert client.post(edit, {"kind": "voice", "title": "Hackeado", "version": 1}).status_code == 403
        assert client.post(reverse("web:guideline-new"), {"kind": "voice", "title": "x"}).status_code == 403
        assert client.post(reverse("web:guideline-delete", args=[made.pk])).status_code == 403
    assert (
        signed_in(world.outsider).post(edit, {"kind": "voice", "title": "x", "version": 1}).status_code == 404
    )
    made.refresh_from_db()
    assert made.title == "Tono" and Guideline.objects.count() == 1


def test_a_manager_writes_edits_and_reads_old_versions(world: World) -> None:
    client = on_brand(world.manager, world.north.pk)
    response = client.post(
        reverse("web:guideline-new"),
        {"kind": "crisis", "title": "Primeros 15 minutos", "body": "Respira.", "owner": world.cm.pk},
    )
    made = Guideline.objects.get()
    assert response.status_code == 302 and made.owner == world.cm and made.brand == world.north
    response = client.post(
        reverse("web:guideline-edit", args=[made.pk]),
        {
            "kind": "crisis",
            "title": "Primeros 15 minutos",
            "body": "Respira y avisa.",
            "version": 1,
            "last_reviewed": "2026-11-20",
            "owner": world.cm.pk,
        },
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.version == 2 and made.last_reviewed == date(2026, 11, 20)
    # A second edit from the old form is refused, not lost silently.
    stale = client.post(
        reverse("web:guideline-edit", args=[made.pk]), {"kind": "crisis", "title": "Otra", "version": 1}
    )
    assert stale.status_code == 400 and "while you were editing" in stale.content.decode()
    old = client.get(reverse("web:guideline", args=[made.pk]), {"version": 1}).content.decode()
    assert 'id="old-version"' in old and "Respira.</p>" in old
    assert client.get(reverse("web:guideline", args=[made.pk]), {"version": 9}).status_code == 404
    assert GuidelineVersion.objects.filter(guideline=made).count() == 2


def test_guideline_links_where_they_apply(world: World) -> None:
    client = on_brand(world.owner, world.north.pk)
    compose = client.get(reverse("web:post-new")).content.decode()
    assert f'href="{LIBRARY}#guidelines-voice"' in compose
    moderation = client.get(reverse("web:moderation")).content.decode()
    assert f'href="{LIBRARY}#guidelines-moderation"' in moderation
    crisis = client.get(reverse("web:crisis")).content.decode()
    assert f'href="{LIBRARY}#guidelines-crisis"' in crisis


def test_the_conversation_pane_links_voice_and_moderation_and_a_flag_can_point_at_it(world: World) -> None:
    from datetime import UTC, datetime

    from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
    from tertulia.core.models import Channel
    from tertulia.inbox.ingest.pipeline import ingest
    from tertulia.inbox.models import Conversation
    from tertulia.portal.actions.contributions import ContributionIn, propose

    channel = Channel.objects.get(brand=world.north)
    item = InboundItem(
        remote_id="m1",
        kind=InboundKind.MENTION,
        author=RemoteAuthor(remote_id="id-ana", handle="ana", followers_count=10),
        text="¿Dónde está mi pedido?",
        created_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
    )
    ingest(channel, [item])
    conversation = Conversation.objects.get(channel=channel)
    page = on_brand(world.cm, world.north.pk).get(reverse("web:conversation", args=[conversation.pk]))
    html = page.content.decode()
    assert f'href="{LIBRARY}#guidelines-voice"' in html and f'href="{LIBRARY}#guidelines-moderation"' in html
    link = f"http://testserver{reverse('web:conversation', args=[conversation.pk])}"
    flagged = propose(
        actor(world.contributor), world.north, ContributionIn(kind="flag", text="ojo", link=link)
    )
    assert flagged.conversation == conversation
    # The same address for another brand's contribution links nothing.
    other = propose(actor(world.contributor), world.south, ContributionIn(kind="flag", text="ojo", link=link))
    assert other.conversation is None
