"""Crisis mode's switch: one audited start and end per brand or for the whole organization."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tertulia import webhooks
from tertulia.core.models import AuditEntry
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.crisis import mode
from tertulia.crisis.models import (
    Alert,
    AlertState,
    ChecklistItem,
    Crisis,
    CrisisRole,
    CrisisState,
    TimelineEntry,
    TimelineKind,
)
from tertulia.inbox import saved_replies
from tertulia.publishing import approvals
from tertulia.publishing.actions.workflows import StepSpec, set_workflow
from tertulia.publishing.delivery.claims import claim, promote_due
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.delivery.ledger import enqueue
from tertulia.publishing.delivery.sending import deliver_batch
from tertulia.publishing.models import (
    AttemptOutcome,
    DeliveryTarget,
    Pause,
    Post,
    PostState,
    TargetState,
    Variant,
    WorkflowKind,
)
from tertulia.webhooks import events

from .mode_support import HOSTILE, Team, make_playbook, mention, team, web

__all__ = ["team"]


def _scheduled(team: Team, text: str = "Nuevo menú de otoño") -> DeliveryTarget:
    post = Post.objects.create(
        organization=team.org, brand=team.brand, created_by=team.cm, text=text, state=PostState.SCHEDULED
    )
    variant = Variant.objects.create(post=post, channel=team.channel)
    (target,) = enqueue(post, timezone.now(), {variant.pk: {"text": text, "media": []}})
    return target


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []

    def emit(organization, event_type, payload):
        events.get(event_type)  # registered, as the real emitter requires
        seen.append((event_type, dict(payload)))
        return 0

    monkeypatch.setattr(webhooks, "emit", emit)
    return seen


def test_starting_crisis_mode_for_a_brand_switches_everything_on(team: Team, emitted):
    playbook = make_playbook(team.brand)
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Intoxicación en el local")
    assert crisis.state == CrisisState.ACTIVE and crisis.playbook == playbook and crisis.brand == team.brand
    # The publishing pause in crisis mode, for this brand only.
    pause = Pause.objects.get(pk=crisis.pause_id or 0)
    assert pause.is_crisis and pause.brand == team.brand and pause.ended_at is None
    assert approvals.in_crisis(team.brand) and not approvals.in_crisis(team.other_brand)
    # The playbook's steps, copied.
    assert list(ChecklistItem.objects.filter(crisis=crisis).values_list("title", "role")) == [
        ("Reúne al equipo", "lead"),
        ("Publica la respuesta de espera", "spokesperson"),
        ("Vigila", ""),
    ]
    kinds = list(TimelineEntry.objects.filter(crisis=crisis).values_list("kind", flat=True))
    assert kinds[0] == TimelineKind.OPENED
    assert {TimelineKind.PUBLISHING, TimelineKind.INBOX, TimelineKind.STEP, TimelineKind.ROLE} <= set(kinds)
    assert CrisisRole.objects.filter(crisis=crisis, user=team.manager, role="lead").exists()
    entry = AuditEntry.objects.get(organization=team.org, action="crisis.started")
    assert entry.actor == team.manager
    assert AuditEntry.objects.filter(organization=team.org, action="publishing.paused").exists()
    assert [name for name, _ in emitted] == ["crisis.started"]
    assert emitted[0][1]["crisis"]["id"] == crisis.pk and emitted[0][1]["summary"]
    assert emitted[0][1]["url"].startswith("http") and emitted[0][1]["url"].endswith(
        f"/crisis/rooms/{crisis.pk}/"
    )


def test_pressing_again_returns_the_same_crisis(team: Team, emitted):
    first = mode.start_crisis(web(team.manager), team.org, team.brand, "Uno")
    again = mode.start_crisis(web(team.owner), team.org, team.brand, "Dos")
    assert again == first and Crisis.objects.count() == 1 and len(emitted) == 1


def test_two_starts_at_the_same_moment_give_one_crisis(team: Team, monkeypatch, emitted):
    first = mode.start_crisis(web(team.manager), team.org, team.brand, "Primero")
    # The second request looked a moment before the first one was written: the constraint decides.
    monkeypatch.setattr(mode, "active_crisis", lambda organization, brand: None)
    second = mode.start_crisis(web(team.owner), team.org, team.brand, "Segundo")
    assert second == first
    assert Crisis.objects.filter(state=CrisisState.ACTIVE).count() == 1
    assert Pause.objects.filter(ended_at__isnull=True).count() == 1
    assert AuditEntry.objects.filter(action="crisis.started").count() == 1
    assert ChecklistItem.objects.count() == 0 or ChecklistItem.objects.filter(crisis=first).count() > 0


def test_a_scheduled_post_is_held_up_to_the_instant_of_sending(team: Team, emitted):
    target = _scheduled(team)
    promote_due()
    (mine,) = claim("w", limit=1)
    # Crisis mode starts after the claim, just before the send.
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Incendio")
    (result,) = deliver_batch([mine], "w")
    assert result.outcome == AttemptOutcome.PAUSED
    target.refresh_from_db()
    assert target.state == TargetState.DUE
    assert run_once("w") == 0  # the claim skips the brand while it is in crisis mode
    mode.end_crisis(web(team.manager), crisis)
    assert run_once("w") == 1
    target.refresh_from_db()
    assert target.state == TargetState.SENT


def test_ending_can_keep_publishing_paused_on_purpose(team: Team, emitted):
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Incendio")
    _scheduled(team)
    mode.end_crisis(web(team.manager), crisis, resume_publishing=False)
    crisis.refresh_from_db()
    pause = Pause.objects.get(pk=crisis.pause_id or 0)
    assert crisis.state == CrisisState.CLOSED and crisis.closed_by == team.manager
    assert pause.ended_at is None and not pause.is_crisis
    assert not approvals.in_crisis(team.brand)
    assert run_once("w") == 0  # still paused
    assert [name for name, _ in emitted] == ["crisis.started", "crisis.ended"]
    assert AuditEntry.objects.filter(action="crisis.ended").exists()
    with pytest.raises(mode.CrisisRefused):
        mode.end_crisis(web(team.manager), crisis)


def test_a_pause_the_team_set_before_the_crisis_outlives_it(team: Team, emitted):
    from tertulia.publishing.actions import pauses

    earlier = pauses.pause(web(team.manager), team.org, team.brand, reason="Campaña en revisión")
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Incendio")
    assert crisis.pause_id == earlier.pk and crisis.pause_predates
    mode.end_crisis(web(team.manager), crisis, resume_publishing=True)
    earlier.refresh_from_db()
    assert earlier.ended_at is None and not earlier.is_crisis  # as the team set it
    assert not approvals.in_crisis(team.brand)
    assert crisis.timeline.filter(text__contains="paused before the crisis").exists()


def test_new_posts_get_the_crisis_workflow_while_it_lasts(team: Team, emitted):
    flow = set_workflow(
        web(team.owner), team.brand, WorkflowKind.CRISIS, [StepSpec("Gabinete", people=[team.manager.pk])]
    )
    post = Post.objects.create(organization=team.org, brand=team.brand, created_by=team.owner, text="Hola")
    assert not approvals.needs_review(team.owner, post)
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Crisis")
    assert approvals.workflow_for(team.brand) == flow
    assert approvals.needs_review(team.owner, post)  # every post, whoever wrote it
    mode.end_crisis(web(team.manager), crisis)
    assert approvals.workflow_for(team.brand) is None and not approvals.needs_review(team.owner, post)


def test_the_whole_organization(team: Team, emitted):
    make_playbook(team.brand)
    make_playbook(team.other_brand, name="Otra")
    with pytest.raises(mode.NotPermitted):
        mode.start_crisis(web(team.limited), team.org, None, "Todo")
    crisis = mode.start_crisis(web(team.owner), team.org, None, "Todo arde")
    assert crisis.brand is None and crisis.playbook is None
    assert Pause.objects.get(pk=crisis.pause_id or 0).brand is None
    assert approvals.in_crisis(team.brand) and approvals.in_crisis(team.other_brand)
    # Each brand gets its own default playbook's statements pinned.
    assert {s.playbook.brand_id for s in mode.pinned_statements(team.other_brand)} == {team.other_brand.pk}
    assert mode.pinned_statements(team.brand)
    # A brand's own crisis can still be opened inside the organization's.
    own = mode.start_crisis(web(team.manager), team.org, team.brand, "La marca")
    assert own != crisis
    with pytest.raises(mode.NotPermitted):
        mode.end_crisis(web(team.limited), crisis)
    mode.end_crisis(web(team.owner), crisis)
    assert approvals.in_crisis(team.brand) and not approvals.in_crisis(team.other_brand)


def test_pinned_statements_appear_first_and_disappear_at_the_end(team: Team, client, emitted):
    make_playbook(team.brand)
    conversation = mention(team.channel)
    conversation.language = "es"
    conversation.save(update_fields=["language"])
    assert saved_replies.pinned_for(conversation) == []
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    (pinned,) = saved_replies.pinned_for(conversation)  # the approved one, in the conversation's language
    assert pinned.shortcut == "espera" and pinned.language == "es"
    client.force_login(team.cm)
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "data-pinned" in page and "Hola " in page and "lo estamos revisando" in page
    assert "borrador" not in page  # not approved: never pinned
    mode.end_crisis(web(team.manager), crisis)
    assert saved_replies.pinned_for(conversation) == []
    assert "data-pinned" not in client.get(f"/inbox/c/{conversation.pk}/").content.decode()


def test_an_alert_is_acknowledged_when_crisis_mode_starts_from_it(team: Team, emitted):
    alert = Alert.objects.create(
        organization=team.org, brand=team.brand, title="Pico de menciones", raised_at=timezone.now()
    )
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Pico", alert=alert)
    alert.refresh_from_db()
    assert crisis.alert == alert and alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledged_by == team.manager
    assert TimelineEntry.objects.filter(crisis=crisis, kind=TimelineKind.ALERT).exists()


def test_who_may_switch_it(team: Team, emitted):
    for user in (team.cm, team.contributor, team.limited):
        with pytest.raises(mode.NotPermitted):
            mode.start_crisis(web(user), team.org, team.brand, "No")
    assert not Crisis.objects.exists() and not Pause.objects.exists()
    crisis = mode.start_crisis(web(team.limited), team.org, team.other_brand, "Sí")
    with pytest.raises(mode.NotPermitted):
        mode.end_crisis(web(team.cm), crisis)


def test_nothing_crosses_organizations(team: Team, emitted):
    elsewhere = make_org("Ajena SA")
    foreign = make_brand(elsewhere, "Ajena")
    with pytest.raises(mode.CrisisRefused):
        mode.start_crisis(web(team.owner), team.org, foreign, "No")
    with pytest.raises(mode.CrisisRefused):
        mode.start_crisis(web(team.owner), team.org, team.brand, "No", playbook=make_playbook(foreign))
    with pytest.raises(mode.CrisisRefused):
        mode.start_crisis(
            web(team.owner), team.org, team.brand, "No", playbook=make_playbook(team.other_brand)
        )
    foreign_alert = Alert.objects.create(
        organization=elsewhere, brand=foreign, title="Ajena", raised_at=timezone.now()
    )
    with pytest.raises(mode.CrisisRefused):
        mode.start_crisis(web(team.owner), team.org, team.brand, "No", alert=foreign_alert)
    assert not Crisis.objects.exists()


def test_titles_are_checked_and_stored_verbatim(team: Team, emitted):
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(mode.CrisisRefused):
            mode.start_crisis(web(team.manager), team.org, team.brand, bad)
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, HOSTILE)
    assert crisis.title == HOSTILE.strip()


PRESSERS = 4


@pytest.mark.django_db(transaction=True)
def test_people_pressing_at_the_same_moment_get_one_crisis(transactional_db, team: Team, emitted):
    import threading

    from django.db import connection, connections

    if connection.vendor == "sqlite":
        pytest.skip("needs a database whose writers wait for each other (PostgreSQL)")
    people = [team.owner, team.manager, team.owner, team.manager][:PRESSERS]
    barrier = threading.Barrier(PRESSERS)
    got: list[int] = []
    errors: list[BaseException] = []

    def press(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            got.append(mode.start_crisis(web(people[index]), team.org, team.brand, f"Pulsado {index}").pk)
        except BaseException as exc:  # surfaced by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press, args=(i,)) for i in range(PRESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(got) == PRESSERS
    assert len(set(got)) == 1
    assert Crisis.objects.filter(state=CrisisState.ACTIVE).count() == 1
    assert Pause.objects.filter(ended_at__isnull=True).count() == 1
    assert AuditEntry.objects.filter(action="crisis.started").count() == 1


def test_crisis_actions_have_their_audit_area():
    from tertulia.core.audit_areas import area_of

    for action in (
        "crisis.started",
        "crisis.ended",
        "crisis.role_assigned",
        "crisis.step_done",
        "crisis.note",
    ):
        assert area_of(action) == "crisis"
