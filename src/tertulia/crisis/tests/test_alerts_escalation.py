"""Raising alerts and escalating them: the chain in order, each rung after its wait, the whole chain
again when nobody acknowledges, acknowledgement stopping it, the fallback, several workers. Time is
moved by passing `now`; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.core.models import AuditEntry
from tertulia.crisis import alerts, escalation
from tertulia.crisis.models import Alert, AlertNotice, AlertState, Medium
from tertulia.crisis.tests.alerts_support import Team, actor, chain, make_surge, team
from tertulia.inbox.models import Notification, NotificationKind

__all__ = ["team"]


def told(alert: Alert, medium: str = Medium.APP) -> list[str]:
    return [
        n.user.email
        for n in AlertNotice.objects.filter(alert=alert, medium=medium).select_related("user").order_by("id")
        if n.user is not None
    ]


def test_a_surge_raises_one_alert_per_watch_and_a_continuing_surge_updates_it(team: Team) -> None:
    first = alerts.raise_for_surge(make_surge(team.brand, ratio=5.2))
    assert first.state == AlertState.OPEN and first.next_escalation_at is not None
    assert "5.2 times" in first.title and "Marca" in first.title
    assert "refund" in first.summary and "@loud_customer" in first.summary and "10.0" in first.summary
    again = alerts.raise_for_surge(make_surge(team.brand, ratio=8.0))
    assert again.pk == first.pk and "8.0" in again.title
    assert Alert.objects.count() == 1
    actions = list(AuditEntry.objects.filter(object_type__icontains="alert").values_list("action", flat=True))
    assert "crisis.alert.raised" in actions and "crisis.alert.updated" in actions
    # Resolved: the next surge on the watch is a new story.
    alerts.resolve(actor(team.oncall), first)
    third = alerts.raise_for_surge(make_surge(team.brand))
    assert third.pk != first.pk and Alert.objects.count() == 2


def test_an_acknowledged_alert_left_unresolved_does_not_silence_its_watch(team: Team) -> None:
    first = alerts.raise_for_surge(make_surge(team.brand))
    alerts.acknowledge(actor(team.oncall), first)
    # Soon after: the team is on it, the same story.
    assert alerts.raise_for_surge(make_surge(team.brand)).pk == first.pk
    # Much later, nobody resolved it: a new surge is a new alert, and the chain is told again.
    Alert.objects.filter(pk=first.pk).update(
        acknowledged_at=timezone.now() - alerts.FOLLOW_ACKNOWLEDGED - timedelta(minutes=1)
    )
    later = alerts.raise_for_surge(make_surge(team.brand))
    assert later.pk != first.pk and later.state == AlertState.OPEN and later.next_escalation_at is not None


def test_the_chain_is_told_in_order_each_after_its_wait_then_everyone_again(team: Team, settings) -> None:
    settings.TERTULIA_CRISIS_RENOTIFY_MINUTES = 15
    chain(team, (team.oncall, 0, True), (team.lead, 10, True), (team.manager, 5, False))
    t0 = timezone.now()
    alert = alerts.raise_for_surge(make_surge(team.brand))
    assert escalation.escalate_due(t0 + timedelta(seconds=1)) == 1
    assert told(alert) == ["guardia@example.com"]
    assert told(alert, Medium.EMAIL) == ["guardia@example.com"]
    # Nothing more until the second rung's wait is over.
    assert escalation.escalate_due(t0 + timedelta(minutes=9)) == 0
    assert escalation.escalate_due(t0 + timedelta(minutes=10, seconds=2)) == 1
    assert told(alert) == ["guardia@example.com", "jefa@example.com"]
    # The third rung 5 minutes later, in the app only (its e-mail is off).
    assert escalation.escalate_due(t0 + timedelta(minutes=14)) == 0
    assert escalation.escalate_due(t0 + timedelta(minutes=15, seconds=3)) == 1
    assert told(alert)[-1] == "gestora@example.com"
    assert "gestora@example.com" not in told(alert, Medium.EMAIL)
    # Chain exhausted: the whole chain again every 15 minutes.
    assert escalation.escalate_due(t0 + timedelta(minutes=29)) == 0
    assert escalation.escalate_due(t0 + timedelta(minutes=30, seconds=4)) == 1
    assert told(alert)[-3:] == ["guardia@example.com", "jefa@example.com", "gestora@example.com"]
    assert escalation.escalate_due(t0 + timedelta(minutes=45, seconds=5)) == 1
    assert len(told(alert)) == 9
    # No webhook endpoint wants the events: no webhook notice is recorded.
    assert not AlertNotice.objects.filter(alert=alert, medium=Medium.WEBHOOK).exists()
    assert Notification.objects.filter(kind=NotificationKind.CRISIS, user=team.oncall).count() == 3


def test_the_whole_chain_is_told_again_a_bounded_number_of_times(team: Team, settings) -> None:
    settings.TERTULIA_CRISIS_RENOTIFY_MINUTES = 15
    settings.TERTULIA_CRISIS_RENOTIFY_ROUNDS = 2
    chain(team, (team.oncall, 0, False), (team.lead, 10, False))
    t0 = timezone.now()
    alert = alerts.raise_for_surge(make_surge(team.brand))
    tellings = sum(
        escalation.escalate_due(t0 + timedelta(minutes=minute, seconds=1)) for minute in range(0, 300, 5)
    )
    assert tellings == 2 + 2  # each rung once, then the whole chain twice
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN and alert.next_escalation_at is None  # waits on its page
    assert escalation.escalate_due(t0 + timedelta(days=30)) == 0


def test_acknowledging_stops_the_escalation(team: Team) -> None:
    chain(team, (team.oncall, 0, False), (team.lead, 10, False))
    t0 = timezone.now()
    alert = alerts.raise_alert(actor(team.oncall), team.brand, "Everyone is angry", "Look at the inbox")
    escalation.escalate_due(t0 + timedelta(seconds=1))
    alerts.acknowledge(actor(team.oncall), alert)
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == team.oncall
    assert alert.next_escalation_at is None
    assert escalation.escalate_due(t0 + timedelta(hours=3)) == 0
    assert told(alert) == ["guardia@example.com"]
    with pytest.raises(alerts.AlreadyDone):
        alerts.acknowledge(actor(team.lead), alert)
    alerts.resolve(actor(team.lead), alert)
    assert alert.state == AlertState.RESOLVED and alert.resolved_at is not None
    with pytest.raises(alerts.AlreadyDone):
        alerts.resolve(actor(team.lead), alert)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"crisis.alert.raised", "crisis.alert.acknowledged", "crisis.alert.resolved"} <= actions


def test_resolving_an_open_alert_stops_it_too(team: Team) -> None:
    chain(team, (team.oncall, 0, False), (team.lead, 1, False))
    t0 = timezone.now()
    alert = alerts.raise_for_surge(make_surge(team.brand))
    escalation.escalate_due(t0 + timedelta(seconds=1))
    alerts.resolve(actor(team.manager), alert)
    assert escalation.escalate_due(t0 + timedelta(hours=1)) == 0


def test_without_a_chain_owners_admins_and_brand_managers_of_the_brand_are_told(team: Team) -> None:
    t0 = timezone.now()
    alert = alerts.raise_for_surge(make_surge(team.brand))
    escalation.escalate_due(t0 + timedelta(seconds=1))
    assert sorted(told(alert)) == ["duena@example.com", "gestora@example.com"]
    assert sorted(told(alert, Medium.EMAIL)) == ["duena@example.com", "gestora@example.com"]
    # Then again after the re-notification interval.
    assert escalation.escalate_due(t0 + timedelta(minutes=16)) == 1
    assert len(told(alert)) == 4


def test_someone_who_left_the_brand_is_skipped(team: Team) -> None:
    chain(team, (team.oncall, 0, False), (team.lead, 10, False))
    from tertulia.core.actions.organizations import deactivate_member
    from tertulia.core.models import Membership

    deactivate_member(actor(team.owner), Membership.objects.get(user=team.oncall, organization=team.org))
    alert = alerts.raise_for_surge(make_surge(team.brand))
    escalation.escalate_due(timezone.now() + timedelta(seconds=1))
    assert told(alert) == ["jefa@example.com"]


def test_two_workers_tell_a_rung_once(team: Team) -> None:
    chain(team, (team.oncall, 0, False))
    alert = alerts.raise_for_surge(make_surge(team.brand))
    stale = Alert.objects.get(pk=alert.pk)
    now = timezone.now() + timedelta(seconds=1)
    assert escalation.escalate_due(now) == 1
    # A second worker that read the alert before the claim: its conditional update finds nothing.
    claimed = Alert.objects.filter(
        pk=stale.pk, state=AlertState.OPEN, level=stale.level, next_escalation_at=stale.next_escalation_at
    ).update(level=stale.level + 1)
    assert claimed == 0
    assert escalation.escalate_due(now) == 0
    assert told(alert) == ["guardia@example.com"]


def test_the_first_rung_is_told_when_the_raising_transaction_commits(
    team: Team, django_capture_on_commit_callbacks
) -> None:
    chain(team, (team.oncall, 0, False))
    with django_capture_on_commit_callbacks(execute=True):
        alert = alerts.raise_alert(actor(team.lead), team.brand, "Help", "")
    assert told(alert) == ["guardia@example.com"]


def test_a_failing_medium_never_stops_the_others(team: Team, settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens: the e-mail fails
    settings.EMAIL_TIMEOUT = 2
    chain(team, (team.oncall, 0, True))
    alert = alerts.raise_for_surge(make_surge(team.brand))
    escalation.escalate_due(timezone.now() + timedelta(seconds=1))
    email = AlertNotice.objects.get(alert=alert, medium=Medium.EMAIL)
    app = AlertNotice.objects.get(alert=alert, medium=Medium.APP)
    assert email.error and "mail server" in email.error
    assert app.error == ""
    assert Notification.objects.filter(user=team.oncall, kind=NotificationKind.CRISIS).exists()


def test_permissions_and_tenancy(team: Team) -> None:
    alert = alerts.raise_for_surge(make_surge(team.brand))
    with pytest.raises(alerts.NotPermitted):
        alerts.acknowledge(actor(team.elsewhere), alert)
    with pytest.raises(alerts.NotPermitted):
        alerts.acknowledge(actor(team.rival), alert)
    with pytest.raises(alerts.NotPermitted):
        alerts.resolve(actor(None), alert)
    with pytest.raises(alerts.NotPermitted):
        alerts.raise_alert(actor(team.elsewhere), team.brand, "x", "")
    assert list(alerts.visible_alerts(team.elsewhere, team.org)) == []
    assert list(alerts.visible_alerts(team.rival, team.org)) == []
    assert list(alerts.visible_alerts(team.oncall, team.org)) == [alert]
    with pytest.raises(alerts.NotPermitted):
        escalation.set_chain(actor(team.oncall), team.brand, [])
    with pytest.raises(alerts.AlertRefused):
        chain(team, (team.elsewhere, 0, True))
    with pytest.raises(alerts.AlertRefused):
        chain(team, (team.rival, 0, True))
    with pytest.raises(alerts.AlertRefused):
        chain(team, (team.oncall, 0, True), (team.oncall, 5, True))


def test_a_surge_from_nothing_expected_and_an_explanation_of_any_shape(team: Team) -> None:
    surge = make_surge(
        team.brand, explanation={"top_terms": "not a list", "authors": [None, 3], "examples": [{}]}
    )
    surge.expected, surge.ratio = 0.0, float("inf")
    surge.save()
    alert = alerts.raise_for_surge(surge)
    assert "∞" in alert.title and "Top terms" not in alert.summary
    escalation.escalate_due(timezone.now() + timedelta(seconds=1))
    assert not AlertNotice.objects.filter(alert=alert).exclude(error="").exists()
