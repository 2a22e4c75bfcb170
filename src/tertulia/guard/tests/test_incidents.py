"""The compromised-account action and its incident, on the sandbox network."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.connectors.base import ConnectorError
from tertulia.connectors.sandbox.connector import SandboxConnector
from tertulia.connectors.sandbox.models import SandboxPost
from tertulia.core.models import AuditEntry, Channel, ChannelStatus
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.guard.actions import holds
from tertulia.guard.actions import incidents as actions
from tertulia.guard.actions.common import AlreadyDecided, GuardRefused, NotPermitted
from tertulia.guard.models import GuardHold, HoldCause, HoldState, IncidentState
from tertulia.guard.recovery import CHECKLIST, help_for
from tertulia.inbox import delivery
from tertulia.inbox.actions import replies
from tertulia.inbox.models import Delivery, Notification, NotificationKind
from tertulia.publishing.actions.scheduling import SchedulingRefused, schedule
from tertulia.publishing.delivery import sending
from tertulia.publishing.delivery.claims import claim, promote_due
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.delivery.sending import deliver_batch
from tertulia.publishing.models import AttemptOutcome, ChannelPause, DeliveryTarget, TargetState
from tertulia.vault.actions import store_credentials
from tertulia.vault.models import Credential

from .conftest import PostMaker, Team, actor, mention


def _published(team: Team) -> list[SandboxPost]:
    return list(SandboxPost.objects.filter(author__handle=team.channel.handle.lstrip("@")))


def test_reporting_a_channel_compromised_stops_it_revokes_it_tells_people_and_opens_the_checklist(
    team: Team, make_post: PostMaker
):
    store_credentials(actor(team.owner), team.channel, {"access_token": "secreto-robado"})
    scheduled = make_post("Programado para mañana")
    schedule(actor(team.author), scheduled, timezone.now() + timedelta(hours=1))
    conversation = mention(team.channel)
    on_its_way = replies.send_reply(actor(team.author), conversation, "Respuesta en camino")
    assert on_its_way.delivery == Delivery.SENDING

    incident = actions.report_compromised(actor(team.owner), team.channel, "Publican sorteos de bitcoin")

    assert incident.state == IncidentState.OPEN and incident.report == "Publican sorteos de bitcoin"
    assert ChannelPause.objects.filter(channel=team.channel, ended_at__isnull=True).exists()
    channel = Channel.objects.get(pk=team.channel.pk)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert not Credential.objects.filter(channel=channel).exists()
    assert incident.credentials_removed
    incident.refresh_from_db()
    assert incident.revoked_remotely and incident.revoke_error == ""
    # The reply on its way waits for review.
    on_its_way.refresh_from_db()
    assert on_its_way.delivery == Delivery.HELD
    hold = GuardHold.objects.get(message=on_its_way)
    assert hold.cause == HoldCause.COMPROMISED and hold.incident == incident and hold.sent_by == team.author
    assert delivery.deliver(on_its_way.pk) == Delivery.HELD
    # Operators and owners are told.
    told = set(Notification.objects.filter(kind=NotificationKind.SECURITY).values_list("user_id", flat=True))
    assert {
        team.author.pk,
        team.colleague.pk,
    } <= told and team.owner.pk not in told  # the reporter is not told
    assert team.outsider.pk not in told and team.contributor.pk not in told
    # The checklist and the timeline.
    assert [step.key for step in incident.steps.all()] == [step.key for step in CHECKLIST]
    whats = list(incident.events.values_list("what", flat=True))
    assert (
        whats[:2] == ["opened", "paused"] and "credentials_removed" in whats and "revoked_remotely" in whats
    )
    actions_done = set(AuditEntry.objects.filter(organization=team.org).values_list("action", flat=True))
    assert {
        "guard.compromised",
        "publishing.channel_paused",
        "credential.remove",
        "guard.revoke_remote",
    } <= actions_done
    # Nothing goes out, even when its time comes.
    DeliveryTarget.objects.filter(post=scheduled).update(
        due_at=timezone.now(), next_attempt_at=timezone.now()
    )
    assert run_once("w") == 0 and _published(team) == []
    # Reporting again returns the same incident.
    assert actions.report_compromised(actor(team.owner), team.channel).pk == incident.pk


def test_a_post_claimed_just_before_the_report_is_stopped_at_the_instant_of_sending(
    team: Team, make_post: PostMaker, monkeypatch: pytest.MonkeyPatch
):
    post = make_post("Ya reclamado por un trabajador")
    schedule(actor(team.author), post)
    promote_due()
    (mine,) = claim("w", limit=1)
    real = sending._requests

    def reported_meanwhile(target_id: int) -> sending._Requests | None:
        # After the batch checked the channel, right before its network call: the report lands.
        actions.report_compromised(actor(team.owner), team.channel)
        return real(target_id)

    monkeypatch.setattr(sending, "_requests", reported_meanwhile)
    results = deliver_batch([mine], "w")
    assert results[0].outcome == AttemptOutcome.PAUSED
    assert _published(team) == []
    target = DeliveryTarget.objects.get(post=post)
    assert target.state == TargetState.DUE and not target.maybe_sent
    monkeypatch.undo()
    assert run_once("w") == 0  # the claim skips the paused channel


def test_a_reply_being_delivered_when_the_channel_is_paused_is_not_sent(team: Team):
    conversation = mention(team.channel)
    message = replies.send_reply(actor(team.author), conversation, "Justo a tiempo")
    ChannelPause.objects.create(organization=team.org, channel=team.channel, started_by=team.owner)
    assert delivery.deliver(message.pk) == Delivery.FAILED
    message.refresh_from_db()
    assert "paused" in message.delivery_error
    assert not SandboxPost.objects.filter(text="Justo a tiempo").exists()


def test_new_replies_and_posts_on_a_paused_channel_wait_for_review(team: Team, make_post: PostMaker):
    incident = actions.report_compromised(actor(team.owner), team.channel)
    conversation = mention(team.channel)
    message = replies.send_reply(actor(team.author), conversation, "Hola de nuevo")
    assert message.delivery == Delivery.HELD
    hold = GuardHold.objects.get(message=message)
    assert [r["code"] for r in hold.reasons] == ["channel_paused"]
    # Releasing a reply while the channel is paused is refused (the hold stays).
    with pytest.raises(GuardRefused):
        holds.release(actor(team.colleague), hold)
    # A post cannot even be scheduled: the channel needs reconnecting.
    post = make_post("Programado durante el incidente")
    with pytest.raises(SchedulingRefused):
        schedule(actor(team.author), post)
    # Once reconnected, while publishing is still paused, it waits for review.
    actions.mark_reconnected(actor(team.owner), incident)
    schedule(actor(team.author), post)
    assert GuardHold.objects.get(post=post).state == HoldState.PENDING


def test_only_channel_managers_may_report_and_never_across_organizations(team: Team):
    with pytest.raises(NotPermitted):
        actions.report_compromised(actor(team.author), team.channel)  # a community manager
    with pytest.raises(NotPermitted):
        actions.report_compromised(actor(None), team.channel)
    other = make_org("Otra SA")
    from tertulia.core.models import Membership, Role

    stranger = Membership.objects.get(organization=other, role=Role.OWNER).user
    with pytest.raises(NotPermitted):
        actions.report_compromised(actor(stranger), team.channel)
    assert not ChannelPause.objects.exists()


def test_a_network_that_fails_to_revoke_does_not_stop_the_rest(team: Team, monkeypatch: pytest.MonkeyPatch):
    store_credentials(actor(team.owner), team.channel, {"access_token": "t"})

    def refuses(self: SandboxConnector) -> None:
        raise ConnectorError("the network is down", retryable=True)

    monkeypatch.setattr(SandboxConnector, "revoke_access", refuses)
    incident = actions.report_compromised(actor(team.owner), team.channel)
    incident.refresh_from_db()
    assert not incident.revoked_remotely and "the network is down" in incident.revoke_error
    assert not Credential.objects.filter(channel=team.channel).exists()
    assert ChannelPause.objects.filter(channel=team.channel, ended_at__isnull=True).exists()


def test_the_suspected_window_is_bounded(team: Team):
    with pytest.raises(GuardRefused):
        actions.report_compromised(
            actor(team.owner), team.channel, suspected_since=timezone.now() + timedelta(days=1)
        )
    with pytest.raises(GuardRefused):
        actions.report_compromised(
            actor(team.owner), team.channel, suspected_since=timezone.now() - timedelta(days=400)
        )
    with pytest.raises(GuardRefused):
        actions.report_compromised(actor(team.owner), team.channel, "x" * (actions.MAX_REPORT + 1))


def test_steps_are_ticked_with_who_and_when(team: Team):
    incident = actions.report_compromised(actor(team.owner), team.channel)
    step = actions.set_step(actor(team.author), incident, "contact_network", True, "Ticket 123 <b>")
    assert step.done_by == team.author and step.done_at is not None and step.note == "Ticket 123 <b>"
    assert actions.set_step(actor(team.author), incident, "contact_network", False).done_at is None
    with pytest.raises(GuardRefused):
        actions.set_step(actor(team.owner), incident, "resume", True)  # done by closing
    with pytest.raises(GuardRefused):
        actions.set_step(actor(team.owner), incident, "no_such_step", True)
    with pytest.raises(NotPermitted):
        actions.set_step(actor(team.outsider), incident, "contact_network", True)
    actions.add_note(actor(team.colleague), incident, "Llamamos al soporte")
    assert incident.events.filter(what="note").get().detail["text"] == "Llamamos al soporte"


def test_closing_needs_an_explicit_choice_and_resume_needs_a_reconnected_channel(
    team: Team, make_post: PostMaker
):
    post = make_post("Espera a que se resuelva")
    schedule(actor(team.author), post)
    incident = actions.report_compromised(actor(team.owner), team.channel)
    with pytest.raises(GuardRefused):
        actions.close(actor(team.owner), incident, "Recuperada", None)
    with pytest.raises(GuardRefused):
        actions.close(actor(team.owner), incident, "", True)
    with pytest.raises(GuardRefused):
        actions.close(actor(team.owner), incident, "Recuperada", True)  # still needs reconnecting
    with pytest.raises(NotPermitted):
        actions.close(actor(team.author), incident, "Recuperada", False)
    assert run_once("w") == 0 and _published(team) == []

    actions.mark_reconnected(actor(team.owner), incident)
    assert Channel.objects.get(pk=team.channel.pk).status == ChannelStatus.ACTIVE
    assert run_once("w") == 0  # reconnected is not resumed
    closed = actions.close(actor(team.owner), incident, "Phishing al community manager; recuperada.", True)
    assert closed.state == IncidentState.CLOSED and closed.resumed is True
    assert not ChannelPause.objects.filter(channel=team.channel, ended_at__isnull=True).exists()
    assert set(closed.steps.filter(done_at__isnull=False).values_list("key", flat=True)) >= {
        "resume",
        "write_up",
    }
    assert run_once("w") == 1 and len(_published(team)) == 1
    with pytest.raises(AlreadyDecided):
        actions.set_step(actor(team.owner), closed, "contact_network", True)
    assert AuditEntry.objects.filter(action="guard.incident_closed").exists()


def test_closing_may_leave_the_channel_paused(team: Team, make_post: PostMaker):
    post = make_post("No saldrá")
    schedule(actor(team.author), post)
    incident = actions.report_compromised(actor(team.owner), team.channel)
    closed = actions.close(actor(team.owner), incident, "La cuenta no se recuperó.", False)
    assert closed.resumed is False
    assert ChannelPause.objects.filter(channel=team.channel, ended_at__isnull=True).exists()
    assert run_once("w") == 0 and _published(team) == []
    # A later report opens a new incident.
    assert actions.report_compromised(actor(team.owner), team.channel).pk != incident.pk


def test_held_replies_of_an_incident_are_released_after_it(team: Team):
    conversation = mention(team.channel)
    message = replies.send_reply(actor(team.author), conversation, "Estaba en camino")
    incident = actions.report_compromised(actor(team.owner), team.channel)
    hold = GuardHold.objects.get(message=message)
    actions.mark_reconnected(actor(team.owner), incident)
    actions.close(actor(team.owner), incident, "Todo bien", True)
    holds.release(actor(team.colleague), hold)
    assert delivery.deliver(message.pk) == Delivery.SENT
    assert incident.events.filter(what="hold_released").exists()


def test_help_links_per_network():
    x, facebook = help_for("x"), help_for("facebook")
    assert x is not None and x.url.startswith("https://help.x.com/")
    assert facebook is not None and facebook.url == "https://www.facebook.com/hacked"
    mastodon = help_for("mastodon", {"base_url": "https://mastodon.example"})
    assert mastodon is not None and mastodon.url == "https://mastodon.example/about"
    assert help_for("mastodon", {"base_url": "javascript:alert(1)"}) is None
    assert help_for("sandbox") is None


def test_another_brand_manager_limited_to_other_brands_may_not_report(team: Team):
    from tertulia.core.actions.organizations import add_member
    from tertulia.core.models import BrandAccess, Membership, Role, User

    other_brand = make_brand(team.org, "Otra marca")
    manager = User.objects.create_user(email="gestora@example.com")
    add_member(actor(None), team.org, manager, Role.BRAND_MANAGER)
    member = Membership.objects.get(organization=team.org, user=manager)
    member.all_brands = False
    member.save()
    BrandAccess.objects.create(membership=member, brand=other_brand)
    with pytest.raises(NotPermitted):
        actions.report_compromised(actor(manager), team.channel)
