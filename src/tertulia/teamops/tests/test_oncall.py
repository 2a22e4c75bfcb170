"""Who is on call: shifts across both European DST changes, overrides first, time off and lost access,
brands; the gaps over the next 14 days."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import deactivate_member
from tertulia.core.models import AuditEntry
from tertulia.teamops.actions import Refused, add_override, add_time_off
from tertulia.teamops.models import GapKind
from tertulia.teamops.oncall import load_plans, on_call, outlook
from tertulia.teamops.tests.support import Crew, actor, crew, member, utc, weekly

__all__ = ["crew"]

pytestmark = pytest.mark.django_db


def test_weekly_shifts_hand_over_at_nine_local_across_spring_forward(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    # Monday 23 March 2026, 09:00 CET (08:00 UTC): week 11 since 5 January, Bea's.
    assert on_call(crew.brand, utc(2026, 3, 23, 7, 59)) == [crew.ana]
    assert on_call(crew.brand, utc(2026, 3, 23, 8, 0)) == [crew.bea]
    # Clocks went forward on Sunday 29 March: Monday 30 March 09:00 is CEST, 07:00 UTC.
    assert on_call(crew.brand, utc(2026, 3, 30, 6, 59)) == [crew.bea]
    assert on_call(crew.brand, utc(2026, 3, 30, 7, 0)) == [crew.ana]
    plan = load_plans([rotation], utc(2026, 3, 23), utc(2026, 3, 31))[0]
    index = plan.shift_index(utc(2026, 3, 24))
    assert index == 11
    assert plan.shift_start(index + 1) - plan.shift_start(index) == timedelta(hours=167)


def test_weekly_shifts_hand_over_at_nine_local_across_fall_back(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    # Monday 19 October 09:00 CEST is 07:00 UTC; after Sunday 25 October, 26 October 09:00 CET is 08:00 UTC.
    assert on_call(crew.brand, utc(2026, 10, 19, 7, 0)) == [crew.bea]
    assert on_call(crew.brand, utc(2026, 10, 26, 7, 30)) == [crew.bea]  # 08:30 on the wall: not yet
    assert on_call(crew.brand, utc(2026, 10, 26, 8, 0)) == [crew.ana]
    plan = load_plans([rotation], utc(2026, 10, 19), utc(2026, 10, 27))[0]
    assert plan.shift_start(42) - plan.shift_start(41) == timedelta(hours=169)


def test_a_hand_over_in_the_skipped_hour_happens_at_the_jump_and_a_repeated_one_the_first_time(
    crew: Crew,
) -> None:
    rotation = weekly(
        crew, [crew.ana, crew.bea], weekday=None, days=1, at=time(2, 30), starts_on=date(2026, 3, 1)
    )
    plan = load_plans([rotation], utc(2026, 3, 1), utc(2026, 11, 1))[0]
    # 29 March: 02:30 never happens in Madrid; the hand-over is at the jump, 03:00 CEST = 01:00 UTC.
    spring = plan.shift_index(utc(2026, 3, 29, 1, 0))
    assert spring is not None and plan.shift_start(spring) == utc(2026, 3, 29, 1, 0)
    assert plan.shift_index(utc(2026, 3, 29, 0, 59)) == spring - 1
    # 25 October: 02:30 happens twice; the first (CEST) is 00:30 UTC.
    autumn = plan.shift_index(utc(2026, 10, 25, 0, 30))
    assert autumn is not None and plan.shift_start(autumn) == utc(2026, 10, 25, 0, 30)
    assert plan.shift_start(autumn + 1) == utc(2026, 10, 26, 1, 30)  # 02:30 CET, a 25-hour day


def test_nobody_is_on_call_before_the_first_shift_and_the_weekday_moves_the_start(crew: Crew) -> None:
    # 7 January 2026 is a Wednesday: the first Monday hand-over is 12 January.
    weekly(crew, [crew.ana, crew.bea], starts_on=date(2026, 1, 7))
    assert on_call(crew.brand, utc(2026, 1, 12, 7, 59)) == []
    assert on_call(crew.brand, utc(2026, 1, 12, 8, 0)) == [crew.ana]


def test_an_override_wins_over_the_schedule_for_its_span_only(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    add_override(
        actor(crew.owner),
        rotation,
        crew.manager,
        utc(2026, 3, 24, 10),
        utc(2026, 3, 25, 10),
        covers_for=crew.bea,
        reason="Dentist",
    )
    assert on_call(crew.brand, utc(2026, 3, 24, 9, 59)) == [crew.bea]
    assert on_call(crew.brand, utc(2026, 3, 24, 10)) == [crew.manager]
    assert on_call(crew.brand, utc(2026, 3, 25, 10)) == [crew.bea]
    entry = AuditEntry.objects.get(action="teamops.override.added")
    assert entry.changes["user"] == [None, crew.manager.pk] and entry.actor == crew.owner


def test_an_override_needs_a_manager_a_real_span_and_someone_of_the_organization(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    with pytest.raises(Refused):
        add_override(actor(crew.ana), rotation, crew.ana, utc(2026, 3, 24), utc(2026, 3, 25))
    with pytest.raises(Refused, match="after the start"):
        add_override(actor(crew.owner), rotation, crew.ana, utc(2026, 3, 25), utc(2026, 3, 24))
    with pytest.raises(Refused, match="active member"):
        add_override(actor(crew.owner), rotation, crew.rival, utc(2026, 3, 24), utc(2026, 3, 25))
    with pytest.raises(Refused, match="every brand"):  # limited to one brand, the rotation covers all
        add_override(actor(crew.owner), rotation, crew.limited, utc(2026, 3, 24), utc(2026, 3, 25))


def test_time_off_lost_access_and_brands_take_people_off_call(crew: Crew) -> None:
    weekly(crew, [crew.ana, crew.bea])
    at = utc(2026, 3, 24, 12)
    assert on_call(crew.brand, at) == [crew.bea]
    span = add_time_off(actor(crew.bea), member(crew.bea, crew.org), utc(2026, 3, 24), utc(2026, 3, 25))
    assert on_call(crew.brand, at) == []
    span.delete()
    deactivate_member(Actor.system("test"), member(crew.bea, crew.org))
    assert on_call(crew.brand, at) == []
    # Only for the brands it covers, and never across organizations.
    assert on_call(crew.brand, utc(2026, 3, 31, 12)) == [crew.ana]
    rival_brand = crew.rival_org.brands.create(name="R", slug="r")
    assert on_call(rival_brand, utc(2026, 3, 31, 12)) == []


def test_a_rotation_for_chosen_brands_covers_only_those(crew: Crew) -> None:
    weekly(crew, [crew.limited], all_brands=False, brands=[crew.other])
    assert on_call(crew.other, utc(2026, 3, 24, 12)) == [crew.limited]
    assert on_call(crew.brand, utc(2026, 3, 24, 12)) == []


def test_people_record_only_their_own_time_off(crew: Crew) -> None:
    with pytest.raises(Refused):
        add_time_off(actor(crew.ana), member(crew.bea, crew.org), utc(2026, 3, 24), utc(2026, 3, 25))


def test_gaps_over_the_next_two_weeks(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea], all_brands=False, brands=[crew.brand])
    now = utc(2026, 3, 24, 12)  # Bea's week, until Monday 30 March 07:00 UTC; Ana's next
    add_time_off(actor(crew.bea), member(crew.bea, crew.org), utc(2026, 3, 26), utc(2026, 3, 28))
    deactivate_member(Actor.system("test"), member(crew.ana, crew.org))
    found = outlook(crew.org, [rotation], [crew.brand, crew.other], now, now + timedelta(days=14))
    gaps = [(g.kind, g.starts_at, g.ends_at, g.user, g.brand) for g in found.gaps]
    assert gaps == [
        (GapKind.NO_ROTATION, now, now + timedelta(days=14), None, crew.other),
        (GapKind.TIME_OFF, utc(2026, 3, 26), utc(2026, 3, 28), crew.bea, None),
        (GapKind.INACTIVE, utc(2026, 3, 30, 7), utc(2026, 4, 6, 7), crew.ana, None),
    ]
    # The schedule the page shows, cut where things change.
    assert [(s.starts_at, s.people) for s in found.schedule][:3] == [
        (now, [crew.bea]),
        (utc(2026, 3, 26), [crew.bea]),
        (utc(2026, 3, 28), [crew.bea]),
    ]


def test_an_override_fills_a_gap_and_an_empty_rotation_is_one(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    now = utc(2026, 3, 24, 12)
    add_time_off(actor(crew.bea), member(crew.bea, crew.org), utc(2026, 3, 26), utc(2026, 3, 28))
    add_override(actor(crew.owner), rotation, crew.ana, utc(2026, 3, 26), utc(2026, 3, 28))
    assert outlook(crew.org, [rotation], [crew.brand], now, now + timedelta(days=3)).gaps == []
    empty = weekly(crew, [], name="Vacía")
    gaps = outlook(crew.org, [empty], [], now, now + timedelta(days=1)).gaps
    assert [(g.kind, g.rotation) for g in gaps] == [(GapKind.NOBODY, empty)]


def test_the_demo_seed_builds_a_rotation_once(crew: Crew) -> None:
    from tertulia.demo.teamops import seed_teamops
    from tertulia.teamops.models import HandoverNote, Override, TimeOff

    rotation = seed_teamops(crew.org)
    assert rotation is not None and seed_teamops(crew.org) == rotation
    people = [m.membership.user for m in rotation.members.order_by("position")]
    assert people == [crew.owner, crew.manager, crew.ana, crew.bea]  # the limited one cannot cover all
    assert Override.objects.filter(rotation=rotation).count() == 1
    assert HandoverNote.objects.filter(rotation=rotation).count() == 1
    assert TimeOff.objects.filter(membership__organization=crew.org).count() == 1
