"""In crisis mode, replies by people who are not crisis approvers wait for one (end to end)."""

from __future__ import annotations

import pytest

from tertulia.connectors.sandbox.models import SandboxPost
from tertulia.crisis import mode
from tertulia.crisis.approval import crisis_approvers, is_crisis_approver
from tertulia.guard.actions import holds
from tertulia.guard.actions.common import NotPermitted
from tertulia.guard.models import GuardHold, HoldCause, HoldState
from tertulia.inbox import delivery
from tertulia.inbox.actions import replies
from tertulia.inbox.models import Delivery, Notification
from tertulia.publishing.actions.workflows import StepSpec, set_workflow
from tertulia.publishing.models import WorkflowKind

from .mode_support import Team, mention, team, web

__all__ = ["team"]

TEXT = "Lo sentimos mucho, lo estamos revisando."


def _sent(text: str) -> int:
    return SandboxPost.objects.filter(text__contains=text).count()


def test_outside_crisis_mode_a_reply_goes_out(team: Team):
    conversation = mention(team.channel)
    message = replies.send_reply(web(team.cm), conversation, TEXT)
    assert message.delivery == Delivery.SENDING and not GuardHold.objects.exists()


def test_a_reply_waits_for_a_crisis_approver_and_goes_out_when_released(team: Team):
    conversation = mention(team.channel)
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    message = replies.send_reply(web(team.cm), conversation, TEXT)
    assert message.delivery == Delivery.HELD
    hold = GuardHold.objects.get(message=message)
    assert hold.cause == HoldCause.CRISIS and hold.state == HoldState.PENDING
    assert delivery.deliver(message.pk) == Delivery.HELD and _sent(TEXT) == 0
    # The approvers are told; a colleague who operates the channel is not one.
    assert Notification.objects.filter(user=team.manager, url=f"/crisis/rooms/{crisis.pk}/").exists()
    assert not Notification.objects.filter(user=team.colleague, url=f"/crisis/rooms/{crisis.pk}/").exists()
    with pytest.raises(NotPermitted):
        holds.release(web(team.colleague), hold)
    with pytest.raises(NotPermitted):
        holds.release(web(team.cm), hold)  # never one's own
    holds.release(web(team.manager), hold)
    message.refresh_from_db()
    assert message.delivery == Delivery.SENDING
    assert delivery.deliver(message.pk) == Delivery.SENT and _sent(TEXT) == 1
    # Still held after the crisis? No: once it ends replies go out again.
    mode.end_crisis(web(team.manager), crisis)
    later = replies.send_reply(web(team.cm), conversation, "Ya está resuelto")
    assert later.delivery == Delivery.SENDING


def test_a_reply_queued_before_the_switch_is_held_at_the_instant_of_sending(team: Team):
    conversation = mention(team.channel)
    message = replies.send_reply(web(team.cm), conversation, TEXT)
    assert message.delivery == Delivery.SENDING  # queued (or being retried) when crisis mode starts
    mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    assert delivery.deliver(message.pk) == Delivery.HELD and _sent(TEXT) == 0
    hold = GuardHold.objects.get(message=message, cause=HoldCause.CRISIS)
    holds.release(web(team.manager), hold)
    assert delivery.deliver(message.pk) == Delivery.SENT and _sent(TEXT) == 1


def test_a_rejected_reply_never_goes_out(team: Team):
    conversation = mention(team.channel)
    mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    message = replies.send_reply(web(team.cm), conversation, TEXT)
    holds.reject(web(team.owner), GuardHold.objects.get(message=message), "Demasiado pronto")
    message.refresh_from_db()
    assert message.delivery == Delivery.REJECTED
    assert delivery.deliver(message.pk) == Delivery.REJECTED and _sent(TEXT) == 0


def test_an_approver_replies_without_waiting(team: Team):
    conversation = mention(team.channel)
    mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    message = replies.send_reply(web(team.owner), conversation, TEXT)
    assert message.delivery == Delivery.SENDING
    assert not GuardHold.objects.filter(cause=HoldCause.CRISIS).exists()


def test_the_crisis_workflow_says_who_approves(team: Team):
    set_workflow(
        web(team.owner), team.brand, WorkflowKind.CRISIS, [StepSpec("Gabinete", people=[team.colleague.pk])]
    )
    mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    assert is_crisis_approver(team.colleague, team.brand)
    assert not is_crisis_approver(team.manager, team.brand)  # not named in the workflow
    conversation = mention(team.channel)
    message = replies.send_reply(web(team.cm), conversation, TEXT)
    hold = GuardHold.objects.get(message=message)
    with pytest.raises(NotPermitted):
        holds.release(web(team.manager), hold)
    holds.release(web(team.colleague), hold)
    assert delivery.deliver(message.pk) == Delivery.SENT


def test_the_approver_crisis_role_makes_an_approver(team: Team):
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")
    assert team.colleague not in crisis_approvers(team.brand)
    mode.assign_role(web(team.manager), crisis, team.colleague, "approver")
    assert team.colleague in crisis_approvers(team.brand)
    mode.assign_role(web(team.manager), crisis, team.contributor, "approver")
    assert team.contributor not in crisis_approvers(team.brand)  # lacks the approve permission


def test_an_organization_wide_crisis_holds_replies_of_every_brand(team: Team):
    mode.start_crisis(web(team.owner), team.org, None, "Todo")
    message = replies.send_reply(web(team.cm), mention(team.channel), TEXT)
    assert message.delivery == Delivery.HELD
