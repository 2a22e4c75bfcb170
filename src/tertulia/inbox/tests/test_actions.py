"""Working conversations: status and the clock, assignment rules, tags, notes, escalation, bulk."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, ChannelOperator, Membership, Role, User
from tertulia.core.tests.factories import make_member, make_user
from tertulia.inbox import presence
from tertulia.inbox.actions import assignment, escalation, notes, status, tags
from tertulia.inbox.actions.bulk import bulk
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import (
    AgentStatus,
    Assignment,
    Conversation,
    InboxSettings,
    Notification,
    ResponseTarget,
    Status,
    Urgency,
)
from tertulia.inbox.tests.conftest import ItemMaker

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def _conversation(
    channel: Channel, item: ItemMaker, text: str = "¿Abrís el domingo?", **kw: object
) -> Conversation:
    now = timezone.now()
    result = ingest(channel, [item(text, at=now - timedelta(minutes=5), **kw)])
    return Conversation.objects.get(pk=result.created[0].conversation_id)


def _operator(channel: Channel, role: str = Role.COMMUNITY_MANAGER, **extra: object) -> User:
    user = make_member(channel.organization, role, **extra)
    ChannelOperator.objects.create(channel=channel, user=user)
    return user


def test_pending_and_snooze_pause_the_clock_reopen_resumes_it(channel: Channel, item: ItemMaker) -> None:
    conversation = _conversation(channel, item)
    due = conversation.due_at
    assert due is not None
    status.set_status(SYSTEM, conversation, Status.PENDING)
    conversation.refresh_from_db()
    assert conversation.due_at is None
    assert ResponseTarget.objects.get(conversation=conversation).paused_at is not None
    status.set_status(SYSTEM, conversation, Status.OPEN)
    conversation.refresh_from_db()
    assert conversation.due_at is not None and conversation.due_at >= due  # the pause moved it later
    with pytest.raises(ActionRefused):
        status.set_status(SYSTEM, conversation, Status.SNOOZED)  # needs a time
    with pytest.raises(ActionRefused):
        status.set_status(SYSTEM, conversation, Status.SNOOZED, timezone.now() - timedelta(minutes=1))
    status.set_status(SYSTEM, conversation, Status.SNOOZED, timezone.now() + timedelta(seconds=1))
    assert status.wake_snoozed(timezone.now() + timedelta(seconds=2)) == 1
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.due_at is not None


def test_closing_unanswered_stops_the_target(channel: Channel, item: ItemMaker) -> None:
    conversation = _conversation(channel, item)
    status.set_status(SYSTEM, conversation, Status.CLOSED)
    target = ResponseTarget.objects.get(conversation=conversation)
    assert target.outcome == ResponseTarget.Outcome.STOPPED
    conversation.refresh_from_db()
    assert conversation.due_at is None and conversation.awaiting_since is None


def test_assign_only_to_people_who_may_operate_the_channel(channel: Channel, item: ItemMaker) -> None:
    conversation = _conversation(channel, item)
    stranger = make_member(channel.organization, Role.COMMUNITY_MANAGER)
    with pytest.raises(ActionRefused):
        assignment.assign(SYSTEM, conversation, stranger)
    agent = _operator(channel)
    assignment.assign(SYSTEM, conversation, agent)
    assert Notification.objects.filter(user=agent, kind="assigned").count() == 1
    assignment.assign(SYSTEM, conversation, agent)  # the same again: nothing new
    assert Notification.objects.filter(user=agent, kind="assigned").count() == 1


@pytest.mark.parametrize("mode", [Assignment.ROUND_ROBIN, Assignment.BALANCED])
def test_automatic_assignment_spreads_work_and_respects_availability_and_capacity(
    channel: Channel, item: ItemMaker, mode: str
) -> None:
    InboxSettings.objects.create(brand=channel.brand, assignment=mode)
    ana, bea, carla = (_operator(channel) for _ in range(3))
    away = AgentStatus.objects.create(membership=Membership.objects.get(user=carla), available=False)
    AgentStatus.objects.create(membership=Membership.objects.get(user=bea), capacity=1)
    owners = {m.user_id for m in Membership.objects.filter(role=Role.OWNER)}
    chosen = [_conversation(channel, item, author=f"p{n}").assignee_id for n in range(4)]
    assert set(chosen) == {ana.pk, bea.pk}
    assert chosen.count(bea.pk) == 1  # capacity 1
    assert not owners & set(chosen) and away.membership.user_id not in chosen


def test_no_candidate_leaves_it_unassigned(channel: Channel, item: ItemMaker) -> None:
    InboxSettings.objects.create(brand=channel.brand, assignment=Assignment.ROUND_ROBIN)
    agent = _operator(channel)
    AgentStatus.objects.create(membership=Membership.objects.get(user=agent), available=False)
    assert _conversation(channel, item).assignee_id is None


def test_tags_are_cleaned_shared_and_limited(channel: Channel, item: ItemMaker) -> None:
    conversation = _conversation(channel, item)
    assert tags.change_tags(SYSTEM, conversation, add=["  Envíos ", "env\u200bíos", "URGENTE"]) == [
        "envíos",
        "urgente",
    ]
    assert tags.change_tags(SYSTEM, conversation, remove=["urgente"]) == ["envíos"]
    for bad in ["\u200b\u200b", "x" * 51]:
        with pytest.raises(ActionRefused):
            tags.change_tags(SYSTEM, conversation, add=[bad])


def test_mentions_notify_teammates_who_can_see_it_never_the_ambiguous(
    channel: Channel, item: ItemMaker
) -> None:
    conversation = _conversation(channel, item)
    lucia = _operator(channel, email="lucia@example.com", display_name="Lucía Romero")
    _operator(channel, email="marcos@example.com", display_name="Marcos Vidal")
    _operator(channel, email="marcos.b@example.com", display_name="Marcos Bravo")
    blind = make_member(channel.organization, Role.COMMUNITY_MANAGER, email="pepe@example.com")
    author = Actor(user=make_user(), via="web")
    note = notes.add_note(author, conversation, "@lucia y @Marcos, ¿lo veis? cc @pepe (mail: x@lucia)")
    assert list(note.mentions.all()) == [lucia]
    assert Notification.objects.filter(kind="mention").count() == 1
    assert not Notification.objects.filter(user=blind).exists()
    assert notes.mentioned("hola @lucía", channel.organization_id) == [lucia]
    with pytest.raises(ActionRefused):
        notes.add_note(author, conversation, "   ")


def test_escalation_notifies_managers_once(channel: Channel, item: ItemMaker) -> None:
    conversation = _conversation(channel, item)
    manager = make_member(channel.organization, Role.BRAND_MANAGER)
    escalation.escalate(SYSTEM, conversation, "Cliente importante")
    escalation.escalate(SYSTEM, conversation, "otra vez")
    conversation.refresh_from_db()
    assert conversation.escalated_at and conversation.escalation_reason == "Cliente importante"
    assert conversation.urgency >= Urgency.HIGH
    assert Notification.objects.filter(user=manager, kind="escalation").count() == 1
    escalation.resolve_escalation(SYSTEM, conversation)
    conversation.refresh_from_db()
    assert conversation.escalated_at is None


def test_bulk_reports_refusals_and_does_the_rest(channel: Channel, item: ItemMaker) -> None:
    first = _conversation(channel, item, author="a")
    second = _conversation(channel, item, author="b")
    outsider = make_member(channel.organization, Role.COMMUNITY_MANAGER)
    result = bulk(SYSTEM, [first, second], "assign", assignee=outsider)
    assert result.done == 0 and len(result.refused) == 2
    assert bulk(SYSTEM, [first, second], "closed").done == 2
    with pytest.raises(ActionRefused):
        bulk(SYSTEM, [first], "explode")


def test_presence_shows_others_and_fades(
    channel: Channel, item: ItemMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = _conversation(channel, item)
    me, colleague = make_user(), make_user(display_name="Marcos")
    presence.mark(channel.organization_id, conversation.pk, colleague, presence.TYPING)
    presence.mark(channel.organization_id, conversation.pk, me, presence.VIEWING)
    assert [(p.name, p.state) for p in presence.others(conversation.pk, me)] == [("Marcos", "typing")]
    later = time.time() + presence.TTL_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert presence.others(conversation.pk, me) == []
