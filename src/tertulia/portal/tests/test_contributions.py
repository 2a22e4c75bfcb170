"""Proposing, flagging and triaging contributions (tertulia.portal.actions.contributions)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tertulia.core.models import AuditEntry
from tertulia.inbox.actions.settings import update_inbox_settings
from tertulia.inbox.models import Notification, NotificationKind
from tertulia.portal.actions import contributions as actions
from tertulia.portal.actions.contributions import ContributionIn, ContributionRefused
from tertulia.portal.models import Contribution, ContributionStatus
from tertulia.publishing.models import Post, PostState

from .conftest import SYSTEM, World, actor

HOSTILE = "<script>alert(1)</script> \u202eRTL\u202c ze\u200bro 🧀"


def idea(text: str = "Receta de otoño con castañas", **extra: Any) -> ContributionIn:
    return ContributionIn(kind="idea", text=text, **extra)


def test_an_idea_is_stored_verbatim_and_audited(world: World) -> None:
    made = actions.propose(actor(world.contributor), world.north, idea(HOSTILE, why="  porque sí "))
    made.refresh_from_db()
    assert made.text == HOSTILE
    assert made.why == "porque sí"
    assert made.status == ContributionStatus.NEW
    assert made.author == world.contributor and made.organization == world.org
    entry = AuditEntry.objects.get(action="contribution.created")
    assert entry.actor == world.contributor and entry.changes["kind"] == [None, "idea"]


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JaVaScRiPt://x.com/%0aalert(1)",
        "data:text/html,<b>x</b>",
        "/relative/path",
        "ftp://example.com/file",
        "https://",
        "https://exa mple.com/",
        "https://example.com/\x01",
    ],
)
def test_only_web_addresses_are_links(world: World, link: str) -> None:
    with pytest.raises(ContributionRefused) as refused:
        actions.propose(actor(world.contributor), world.north, idea(link=link))
    assert any("http" in message for message in refused.value.messages)
    assert not Contribution.objects.exists()


def test_lengths_and_empties_are_refused_with_reasons(world: World) -> None:
    with pytest.raises(ContributionRefused) as refused:
        actions.propose(
            actor(world.contributor),
            world.north,
            ContributionIn(kind="idea", text="x" * 4001, why="y" * 1001, link="https://e.com/" + "a" * 600),
        )
    text = " ".join(refused.value.messages)
    assert "4000" in text and "1000" in text and "500" in text
    with pytest.raises(ContributionRefused, match="Paste the link"):
        actions.propose(actor(world.contributor), world.north, ContributionIn(kind="flag", text="ojo"))
    with pytest.raises(ContributionRefused, match="Say what"):
        actions.propose(actor(world.contributor), world.north, idea("   "))
    with pytest.raises(ContributionRefused, match="passed"):
        actions.propose(
            actor(world.contributor),
            world.north,
            idea(suggested_date=timezone.localdate() - timedelta(days=2)),
        )
    assert not Contribution.objects.exists()


def test_a_member_limited_to_another_brand_cannot_send_to_this_one(world: World) -> None:
    with pytest.raises(ContributionRefused):
        actions.propose(actor(world.limited), world.north, idea())
    with pytest.raises(ContributionRefused):
        actions.propose(actor(world.outsider), world.north, idea())
    assert actions.propose(actor(world.limited), world.south, idea()).brand == world.south


def test_the_daily_limit(world: World) -> None:
    for n in range(actions.DAILY_LIMIT):
        actions.propose(actor(world.contributor), world.north, idea(f"idea {n}"))
    with pytest.raises(ContributionRefused, match="30 contributions in the last 24 hours"):
        actions.propose(actor(world.contributor), world.south, idea("one more"))
    assert Contribution.objects.filter(author=world.contributor).count() == actions.DAILY_LIMIT
    # A day later there is room again.
    Contribution.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    actions.propose(actor(world.contributor), world.north, idea("mañana"))


def test_an_urgent_flag_alerts_the_brand_team_and_the_escalation_person(world: World) -> None:
    update_inbox_settings(SYSTEM, world.north, escalate_to=world.analyst)
    made = actions.propose(
        actor(world.contributor),
        world.north,
        ContributionIn(
            kind="flag", text="Un cliente muy enfadado", link="https://social.example/p/1", urgency="urgent"
        ),
    )
    alerted = set(Notification.objects.filter(kind=NotificationKind.FLAGGED).values_list("user", flat=True))
    assert not Notification.objects.exclude(kind=NotificationKind.FLAGGED).exists()
    assert world.cm.pk in alerted and world.manager.pk in alerted and world.owner.pk in alerted
    assert world.analyst.pk in alerted  # the brand's escalation person
    assert world.contributor.pk not in alerted and world.limited.pk not in alerted
    note = Notification.objects.filter(user=world.cm).get()
    assert "Un cliente muy enfadado" in note.text and note.url.endswith(f"#contribution-{made.pk}")


def test_a_long_urgent_flag_is_quoted_short_without_splitting_an_emoji(world: World) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one family, five code points
    text = "a" * (actions.FLAG_PREVIEW_CHARS - 3) + family + " sigue " * 200
    made = actions.propose(
        actor(world.contributor),
        world.north,
        ContributionIn(kind="flag", text=text, link="https://social.example/p/9", urgency="urgent"),
    )
    note = Notification.objects.filter(user=world.cm).get()
    assert note.text.endswith("…") and len(note.text) <= 500
    assert family not in note.text and "\u200d" not in note.text  # the family is kept whole or left out
    assert Contribution.objects.get(pk=made.pk).text == text  # the whole text stays in the queue


def test_a_normal_flag_alerts_nobody(world: World) -> None:
    actions.propose(
        actor(world.contributor),
        world.north,
        ContributionIn(kind="flag", text="Pregunta sin responder", link="https://social.example/p/2"),
    )
    assert not Notification.objects.exists()


def test_decisions_notify_the_contributor(world: World) -> None:
    made = actions.propose(actor(world.contributor), world.north, idea())
    with pytest.raises(ContributionRefused, match="Say why"):
        actions.decide(actor(world.cm), made, ContributionStatus.DECLINED)
    assert not Notification.objects.exists()
    actions.decide(actor(world.cm), made, ContributionStatus.DECLINED, "Ya lo publicamos ayer")
    made.refresh_from_db()
    assert made.status == ContributionStatus.DECLINED and made.reply == "Ya lo publicamos ayer"
    assert made.decided_by == world.cm
    note = Notification.objects.get(user=world.contributor)
    assert note.kind == NotificationKind.CONTRIBUTION
    assert note.get_kind_display() == "News on your contribution"
    assert "declined" in note.text and "Ya lo publicamos ayer" in note.text
    assert note.url.endswith(f"/contribute/#contribution-{made.pk}")
    entry = AuditEntry.objects.get(action="contribution.decided")
    assert entry.changes["status"] == ["new", "declined"]
    actions.answer(actor(world.cm), made, "Pero gracias, ¡sigue así!")
    assert (
        Notification.objects.filter(user=world.contributor, kind=NotificationKind.CONTRIBUTION).count() == 2
    )


def test_only_the_brand_team_decides(world: World) -> None:
    made = actions.propose(actor(world.limited), world.south, idea())
    for person in (world.contributor, world.analyst, world.limited, world.outsider):
        with pytest.raises(ContributionRefused):
            actions.decide(actor(person), made, ContributionStatus.ACCEPTED)
    made.refresh_from_db()
    assert made.status == ContributionStatus.NEW


def test_an_idea_becomes_a_draft_post(world: World) -> None:
    made = actions.propose(actor(world.contributor), world.north, idea(HOSTILE))
    actions.make_draft(actor(world.cm), made)
    made.refresh_from_db()
    post = Post.objects.get()
    assert made.post == post and made.status == ContributionStatus.ACCEPTED
    assert post.text == HOSTILE and post.state == PostState.DRAFT and post.brand == world.north
    assert post.created_by == world.cm and f"#{made.pk}" in post.title
    assert AuditEntry.objects.filter(action="post.created").count() == 1
    assert "draft post" in Notification.objects.get(user=world.contributor).text
    with pytest.raises(ContributionRefused, match="already"):
        actions.make_draft(actor(world.cm), made)
    assert Post.objects.count() == 1


def test_a_flag_does_not_become_a_draft(world: World) -> None:
    made = actions.propose(
        actor(world.contributor),
        world.north,
        ContributionIn(kind="flag", text="mira", link="https://social.example/p/3"),
    )
    with pytest.raises(ContributionRefused):
        actions.make_draft(actor(world.cm), made)
    assert not Post.objects.exists()
