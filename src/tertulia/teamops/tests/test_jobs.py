"""The periodic jobs (hand-over notices, gap warnings: once each, even with several workers) and what
on-call changes elsewhere: inbox assignment and crisis escalation."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import User
from tertulia.crisis import escalation
from tertulia.crisis.escalation import StepInput, set_chain
from tertulia.inbox.actions.assignment import candidates, set_availability
from tertulia.inbox.models import Notification
from tertulia.teamops import jobs
from tertulia.teamops.actions import Refused, add_time_off, set_working_hours, write_note
from tertulia.teamops.models import GapKind, GapWarning, HandoverNote
from tertulia.teamops.oncall import load_plans
from tertulia.teamops.tests.support import Crew, actor, crew, member, utc, weekly

__all__ = ["crew"]

pytestmark = pytest.mark.django_db


def texts(user: User) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("text", flat=True))


def test_the_incoming_person_is_told_once_at_the_hand_over_with_the_note(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    written = utc(2026, 3, 25, 12)  # Bea's week; she hands over to Ana on 30 March at 07:00 UTC
    with mock.patch("django.utils.timezone.now", return_value=written):
        note = write_note(actor(crew.bea), rotation, "Ticket <b>42</b> open; watch @angry_client")
    assert note.handover_at == utc(2026, 3, 30, 7)
    with pytest.raises(Refused):
        write_note(actor(crew.analyst), rotation, "not mine")
    rotation.handover_told_at = utc(2026, 3, 23, 8)
    rotation.save()
    assert jobs.tell_handovers(utc(2026, 3, 30, 6, 59)) == 0
    assert jobs.tell_handovers(utc(2026, 3, 30, 7, 1)) == 1
    assert jobs.tell_handovers(utc(2026, 3, 30, 7, 2)) == 0  # told once
    [text] = texts(crew.ana)
    assert "You are on call for Guardia" in text and "Ticket <b>42</b> open; watch @angry_client" in text
    assert "Bea" in text
    assert texts(crew.bea) == []
    assert HandoverNote.objects.get(pk=note.pk).told_at == utc(2026, 3, 30, 7, 1)


def test_a_hand_over_found_hours_late_is_not_announced(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    rotation.handover_told_at = utc(2026, 3, 23, 8)
    rotation.save()
    assert jobs.tell_handovers(utc(2026, 3, 30, 19)) == 0
    rotation.refresh_from_db()
    assert rotation.handover_told_at == utc(2026, 3, 30, 7)


def test_two_workers_tell_a_hand_over_once(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    rotation.handover_told_at = utc(2026, 3, 23, 8)
    rotation.save()
    plan = load_plans([rotation], utc(2026, 3, 30), utc(2026, 3, 30, 8))[0]
    stale = type(rotation).objects.get(pk=rotation.pk)  # what a second worker read before the first wrote
    assert jobs._tell_one(rotation, plan, utc(2026, 3, 30, 7, 1)) == 1
    assert jobs._tell_one(stale, plan, utc(2026, 3, 30, 7, 1)) == 0
    assert len(texts(crew.ana)) == 1


def test_managers_are_warned_once_per_gap(crew: Crew) -> None:
    now = timezone.now()
    rotation = weekly(
        crew, [crew.ana], all_brands=False, brands=[crew.brand], starts_on=now.date() - timedelta(days=30)
    )
    add_time_off(
        actor(crew.ana), member(crew.ana, crew.org), now + timedelta(days=2), now + timedelta(days=3)
    )
    assert jobs.warn_gaps(now) == 2  # Ana's time off; the other brand has no rotation
    assert jobs.warn_gaps(now + timedelta(minutes=1)) == 0  # the sweep ran less than 10 minutes ago
    later = now + timedelta(minutes=11)
    assert jobs.warn_gaps(later) == 0  # the same gaps: not warned again
    kinds = sorted(GapWarning.objects.values_list("kind", flat=True))
    assert kinds == [GapKind.NO_ROTATION, GapKind.TIME_OFF]
    warned = sorted(Notification.objects.values_list("user__email", flat=True))
    # Owner and brand manager manage rotations; community managers and the analyst are not warned.
    assert warned == ["manager@example.com"] * 2 + ["owner@example.com"] * 2
    assert any("on time off" in t and "Ana" in t for t in texts(crew.owner))
    # A new gap is warned.
    add_time_off(
        actor(crew.ana), member(crew.ana, crew.org), now + timedelta(days=5), now + timedelta(days=6)
    )
    assert jobs.warn_gaps(later + timedelta(minutes=11)) == 1
    time_off = GapWarning.objects.filter(kind=GapKind.TIME_OFF).values_list("rotation_id", flat=True)
    assert set(time_off) == {rotation.pk}


def test_the_sweep_claim_lets_one_worker_run_per_period() -> None:
    now = timezone.now()
    assert jobs.claim_run("x", now, timedelta(minutes=10))
    assert not jobs.claim_run("x", now, timedelta(minutes=10))
    assert jobs.claim_run("x", now + timedelta(minutes=10), timedelta(minutes=10))


# --- inbox assignment --------------------------------------------------------------------------------


def test_assignment_skips_time_off_and_off_hours_but_falls_back_on_the_person_on_call(crew: Crew) -> None:
    channel = connect_channel(Actor.system("t"), crew.brand, "sandbox", "marca_guardia")
    set_channel_operators(Actor.system("t"), channel, [crew.ana, crew.bea])
    now = timezone.now()
    assert sorted(c.user.email for c in candidates(channel)) == ["ana@example.com", "bea@example.com"]
    add_time_off(
        actor(crew.ana), member(crew.ana, crew.org), now - timedelta(hours=1), now + timedelta(hours=1)
    )
    assert [c.user.email for c in candidates(channel)] == ["bea@example.com"]
    # Bea's hours are never now (a day with hours, in another day of the week): nobody works now.
    other_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(now.weekday() + 3) % 7]
    set_working_hours(actor(crew.bea), member(crew.bea, crew.org), "UTC", {other_day: [["00:00", "24:00"]]})
    assert candidates(channel) == []
    # On call for the brand, she is the one who gets the work.
    rotation = weekly(crew, [crew.bea], weekday=None, days=1, starts_on=now.date() - timedelta(days=2))
    assert [c.user.email for c in candidates(channel)] == ["bea@example.com"]
    # The manual toggle still wins.
    set_availability(Actor.system("t"), member(crew.bea, crew.org), available=False)
    assert candidates(channel) == []
    assert rotation.pk


def test_working_hours_are_validated(crew: Crew) -> None:
    with pytest.raises(Refused, match="Invalid time"):
        set_working_hours(actor(crew.ana), member(crew.ana, crew.org), "UTC", {"mon": [["9", "17:00"]]})
    with pytest.raises(Refused, match="time zone"):
        set_working_hours(actor(crew.ana), member(crew.ana, crew.org), "Mars/Base", {})
    with pytest.raises(Refused):
        set_working_hours(actor(crew.ana), member(crew.bea, crew.org), "UTC", {})


# --- crisis escalation ---------------------------------------------------------------------------------


def test_the_person_on_call_is_position_zero_of_the_escalation_chain(crew: Crew) -> None:
    now = timezone.now()
    set_chain(
        actor(crew.owner),
        crew.brand,
        [StepInput(crew.manager.pk, 0, True), StepInput(crew.owner.pk, 10, False)],
    )
    assert [r.people for r in escalation.chain_for(crew.brand, now)] == [(crew.manager,), (crew.owner,)]
    weekly(crew, [crew.ana], weekday=None, days=1, starts_on=now.date() - timedelta(days=2))
    chain = escalation.chain_for(crew.brand, now)
    assert [r.people for r in chain] == [(crew.ana, crew.manager), (crew.owner,)]  # the chain's first stays
    assert chain[0].by_email and not chain[1].by_email


def test_without_a_chain_the_person_on_call_comes_before_the_fallback(crew: Crew) -> None:
    now = timezone.now()
    fallback = escalation.chain_for(crew.brand, now)
    assert len(fallback) == 1 and fallback[0].fallback
    weekly(crew, [crew.bea], weekday=None, days=1, starts_on=now.date() - timedelta(days=2))
    chain = escalation.chain_for(crew.brand, now)
    assert chain[0].people == (crew.bea,) and not chain[0].fallback
    assert chain[1].fallback and chain[1].wait_minutes == escalation.FALLBACK_WAIT
    # Bea away: nobody on call, the chain is what it was.
    add_time_off(
        actor(crew.bea), member(crew.bea, crew.org), now - timedelta(hours=1), now + timedelta(hours=1)
    )
    assert [r.fallback for r in escalation.chain_for(crew.brand, now)] == [True]
