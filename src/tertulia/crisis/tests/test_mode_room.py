"""The crisis room's actions: roles, the checklist, notes."""

from __future__ import annotations

import pytest

from tertulia.core.models import AuditEntry
from tertulia.crisis import mode
from tertulia.crisis.models import ChecklistItem, CrisisRole, TimelineEntry, TimelineKind

from .mode_support import HOSTILE, Team, make_playbook, team, web

__all__ = ["team"]


@pytest.fixture
def crisis(team: Team):
    make_playbook(team.brand)
    return mode.start_crisis(web(team.manager), team.org, team.brand, "Caída")


def test_ticking_keeps_who_and_when(team: Team, crisis):
    item = ChecklistItem.objects.filter(crisis=crisis)[0]
    done = mode.tick(web(team.cm), item, note="Hecho a las 10")
    assert done.done_by == team.cm and done.done_at is not None and done.note == "Hecho a las 10"
    again = mode.tick(web(team.colleague), item)
    assert again.done_by == team.cm and again.done_at == done.done_at  # the first tick stands
    undone = mode.tick(web(team.colleague), item, done=False)
    assert undone.done_by is None and undone.done_at is None
    texts = list(
        TimelineEntry.objects.filter(crisis=crisis, kind=TimelineKind.STEP).values_list("text", flat=True)
    )
    assert any(text.startswith("Done: Reúne al equipo") for text in texts)
    assert any(text.startswith("Not done any more:") for text in texts)
    actions = set(AuditEntry.objects.filter(organization=team.org).values_list("action", flat=True))
    assert {"crisis.step_done", "crisis.step_undone"} <= actions


def test_notes_are_verbatim_and_checked(team: Team, crisis):
    entry = mode.add_note(web(team.cm), crisis, HOSTILE)
    assert entry.text == HOSTILE.strip() and entry.kind == TimelineKind.NOTE and entry.actor == team.cm
    for bad in ("", "  ", "x" * 1001):
        with pytest.raises(mode.CrisisRefused):
            mode.add_note(web(team.cm), crisis, bad)
    with pytest.raises(mode.NotPermitted):
        mode.add_note(web(team.contributor), crisis, "No")
    with pytest.raises(mode.NotPermitted):
        mode.add_note(web(team.limited), crisis, "No")


def test_roles_are_given_and_taken_by_the_lead_or_managers(team: Team, crisis):
    with pytest.raises(mode.NotPermitted):
        mode.assign_role(web(team.cm), crisis, team.colleague, "responder")
    mode.assign_role(web(team.manager), crisis, team.cm, "lead")
    mode.assign_role(web(team.cm), crisis, team.colleague, "responder")  # a lead gives roles
    mode.assign_role(web(team.cm), crisis, team.colleague, "responder")  # once
    assert CrisisRole.objects.filter(crisis=crisis, user=team.colleague).count() == 1
    with pytest.raises(mode.CrisisRefused):
        mode.assign_role(web(team.manager), crisis, team.colleague, "king")
    with pytest.raises(mode.CrisisRefused):
        mode.assign_role(web(team.manager), crisis, team.limited, "monitor")  # not in this brand
    # A contributor with a role may then work the checklist.
    mode.assign_role(web(team.manager), crisis, team.contributor, "monitor")
    mode.add_note(web(team.contributor), crisis, "Las cifras bajan")
    assert mode.unassign_role(web(team.manager), crisis, team.colleague, "responder")
    assert not mode.unassign_role(web(team.manager), crisis, team.colleague, "responder")
    actions = list(AuditEntry.objects.filter(organization=team.org).values_list("action", flat=True))
    assert "crisis.role_assigned" in actions and "crisis.role_removed" in actions
    assert TimelineEntry.objects.filter(crisis=crisis, kind=TimelineKind.ROLE).count() >= 4


def test_a_closed_crisis_is_read_only(team: Team, crisis):
    mode.end_crisis(web(team.manager), crisis)
    item = ChecklistItem.objects.filter(crisis=crisis)[0]
    with pytest.raises(mode.CrisisRefused):
        mode.tick(web(team.manager), item)
    with pytest.raises(mode.CrisisRefused):
        mode.add_note(web(team.manager), crisis, "Tarde")
    with pytest.raises(mode.CrisisRefused):
        mode.assign_role(web(team.manager), crisis, team.cm, "monitor")


def test_an_organization_wide_room_shows_a_limited_member_only_their_brands(team: Team):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from tertulia.crisis import room
    from tertulia.crisis.models import Bucket, Watch, WatchKind

    now = timezone.now()
    minute = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    for brand, volume in ((team.brand, 40), (team.other_brand, 3)):
        watch = Watch.objects.create(organization=team.org, brand=brand, kind=WatchKind.BRAND)
        Bucket.objects.create(watch=watch, minute=minute, volume=volume, negative=1, people=volume)
    make_playbook(team.brand)
    crisis = mode.start_crisis(web(team.owner), team.org, None, "Todo el grupo")
    assert room.metrics(crisis, now).peak == 43
    assert room.metrics(crisis, now, brand_ids=[team.other_brand.pk]).peak == 3
    assert room.metrics(crisis, now, brand_ids=[]).peak == 0
    client = Client()
    client.force_login(team.limited)  # works in the other brand only
    live = client.get(f"/crisis/rooms/{crisis.pk}/live/").content.decode()
    assert "peak 3 in the last hour" in live and "peak 43" not in live
    client.force_login(team.manager)
    assert "peak 43 in the last hour" in client.get(f"/crisis/rooms/{crisis.pk}/live/").content.decode()
