from __future__ import annotations

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.publishing.actions.pauses import PauseRefused, held, pause, resume
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.models import TargetState


def test_a_pause_holds_due_posts_and_resuming_releases_them(org, brand, channels, scheduled):
    manager = make_member(org, Role.BRAND_MANAGER)
    actor = Actor(user=manager, via="web")
    active = pause(actor, org, brand, reason="Incendio en la fábrica", crisis=True)
    assert pause(actor, org, brand) == active  # one active pause per scope
    (target,) = scheduled(channels[:1])
    assert run_once("w") == 0
    assert list(held(org, brand)) == [target]
    resume(actor, active)
    assert run_once("w") == 1
    target.refresh_from_db()
    assert target.state == TargetState.SENT
    actions = set(AuditEntry.objects.filter(organization=org).values_list("action", flat=True))
    assert {"publishing.paused", "publishing.resumed"} <= actions
    with pytest.raises(PauseRefused):
        resume(actor, active)


def test_only_those_who_manage_publishing_pause_it(org, brand):
    community_manager = make_member(org, Role.COMMUNITY_MANAGER)
    with pytest.raises(PauseRefused):
        pause(Actor(user=community_manager, via="web"), org, brand)


def test_a_brand_of_another_organization_cannot_be_paused_from_here(org):
    owner_actor = Actor.system()
    other_brand = make_brand(make_org())
    with pytest.raises(PauseRefused):
        pause(owner_actor, org, other_brand)
