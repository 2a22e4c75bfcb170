"""Moderation by hand: done at once, or waiting for a second person who is never the one who asked."""

from __future__ import annotations

import pytest

from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxBlock, SandboxPost
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, ChannelOperator, Role
from tertulia.core.tests.factories import make_member
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Message, Notification, NotificationKind
from tertulia.moderation.actions.manual import (
    AlreadyDecided,
    ModerationRefused,
    NotPermitted,
    approve,
    moderate,
    reject,
)
from tertulia.moderation.choices import ActionStatus
from tertulia.moderation.models import ModerationAction

from .conftest import COMPLAINT, INSULT, SPAM, World

pytestmark = pytest.mark.django_db


def person(user) -> Actor:
    return Actor(user=user, via="web", label_override="")


def _on_the_network(world: World, author: str, text: str, followers: int = 3) -> tuple[SandboxPost, Message]:
    brand = SandboxAccount.objects.get(handle=world.channel.handle)
    someone = network.create_account(author)
    SandboxAccount.objects.filter(pk=someone.pk).update(followers_count=followers)
    ours = network.post(brand, "Nuevo turrón")
    post = network.reply(someone, ours, text)
    ingest(world.channel, connector_for(world.channel).fetch_inbound(None).items)
    return post, Message.objects.get(channel=world.channel, remote_id=str(post.pk))


def test_hiding_by_hand_is_done_at_once_and_audited(world: World, django_capture_on_commit_callbacks) -> None:
    post, message = _on_the_network(world, "vendehumos", SPAM)
    with django_capture_on_commit_callbacks(execute=True):
        action = moderate(person(world.cm), message, "hide", "publicidad")
    action.refresh_from_db()
    post.refresh_from_db()
    assert action.status == ActionStatus.APPLIED and post.is_hidden
    assert Message.objects.get(pk=message.pk).is_hidden
    assert action.requested_by == world.cm and not action.automatic and action.reason == "publicidad"
    entries = AuditEntry.objects.filter(object_type="moderation.action", object_id=str(action.pk))
    assert {e.action for e in entries} == {"moderation.hide", "moderation.applied"}
    assert entries.get(action="moderation.hide").actor == world.cm
    with django_capture_on_commit_callbacks(execute=True):
        moderate(person(world.cm), message, "unhide")
    post.refresh_from_db()
    assert not post.is_hidden and not Message.objects.get(pk=message.pk).is_hidden


def test_blocking_an_influential_author_needs_a_second_person(
    world: World, django_capture_on_commit_callbacks
) -> None:
    _post, message = _on_the_network(world, "bloguera", INSULT, followers=10_000)
    with pytest.raises(ModerationRefused, match="Say why"):
        moderate(person(world.cm), message, "block")
    with django_capture_on_commit_callbacks(execute=True):
        action = moderate(person(world.cm), message, "block", "insulta a diario")
    assert action.status == ActionStatus.AWAITING_APPROVAL
    assert "insulta a diario" in action.reason and "10,000 followers" in action.reason
    # The approvers hear of it; the one who asked does not.
    told = set(Notification.objects.filter(kind=NotificationKind.APPROVAL).values_list("user_id", flat=True))
    assert told == {world.owner.pk, world.manager.pk}
    assert not SandboxBlock.objects.exists()

    # Not the requester, not a community manager.
    with pytest.raises(NotPermitted, match="yourself"):
        approve(person(world.cm), action)
    with pytest.raises(NotPermitted):
        approve(person(world.cm2), action)
    with pytest.raises(NotPermitted):
        approve(Actor.system("a rule"), action)
    action.refresh_from_db()
    assert action.status == ActionStatus.AWAITING_APPROVAL

    with django_capture_on_commit_callbacks(execute=True):
        approve(person(world.manager), action, "de acuerdo")
    action.refresh_from_db()
    assert action.status == ActionStatus.APPLIED
    assert action.decided_by == world.manager and action.decision_note == "de acuerdo"
    brand = SandboxAccount.objects.get(handle=world.channel.handle)
    assert SandboxBlock.objects.filter(blocker=brand, blocked__handle="bloguera").exists()
    assert AuditEntry.objects.filter(
        object_type="moderation.action", action="moderation.approve", actor=world.manager
    ).exists()
    assert Notification.objects.filter(user=world.cm, kind=NotificationKind.APPROVAL).exists()
    with pytest.raises(AlreadyDecided):
        reject(person(world.owner), action)


def test_a_manager_cannot_approve_their_own_request_either(world: World) -> None:
    _post, message = _on_the_network(world, "queja", COMPLAINT)
    action = moderate(person(world.manager), message, "delete", "lo pide el cliente")
    assert action.status == ActionStatus.AWAITING_APPROVAL and "complaint" in action.reason
    with pytest.raises(NotPermitted, match="yourself"):
        approve(person(world.manager), action)
    approve(person(world.owner), action)
    action.refresh_from_db()
    assert action.status == ActionStatus.PENDING and action.decided_by == world.owner


def test_rejected_or_withdrawn_requests_do_nothing(world: World, django_capture_on_commit_callbacks) -> None:
    post, message = _on_the_network(world, "queja2", COMPLAINT)
    first = moderate(person(world.cm), message, "delete", "no me gusta")
    with pytest.raises(NotPermitted):
        reject(person(world.cm2), first)  # neither asked nor may approve
    with django_capture_on_commit_callbacks(execute=True):
        reject(person(world.manager), first, "las críticas no se borran")
    first.refresh_from_db()
    assert first.status == ActionStatus.REJECTED and first.decision_note == "las críticas no se borran"
    second = moderate(person(world.cm), message, "delete", "otra vez")
    reject(person(world.cm), second)
    second.refresh_from_db()
    assert second.status == ActionStatus.REJECTED and second.decided_by == world.cm
    post.refresh_from_db()
    assert post.deleted_at is None


def test_who_may_moderate(world: World) -> None:
    _post, message = _on_the_network(world, "alguien", SPAM)
    with pytest.raises(NotPermitted):
        moderate(person(world.outsider), message, "hide")  # no grant on the channel
    reader = make_member(world.org, Role.ANALYST)  # no MODERATE permission, even with a grant
    ChannelOperator.objects.create(channel=world.channel, user=reader)
    with pytest.raises(NotPermitted):
        moderate(person(reader), message, "hide")
    with pytest.raises(ModerationRefused, match="Choose"):
        moderate(person(world.cm), message, "mute")
    moderate(person(world.cm), message, "hide")
    with pytest.raises(ModerationRefused, match="already"):
        moderate(person(world.cm), message, "hide")
    assert ModerationAction.objects.count() == 1
