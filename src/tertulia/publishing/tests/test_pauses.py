from __future__ import annotations

import pytest
from django.utils import timezone

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


def test_the_database_keeps_one_active_pause_per_scope(org, brand):
    from django.db import IntegrityError, transaction

    from tertulia.publishing.models import Pause

    Pause.objects.create(organization=org, brand=None)
    Pause.objects.create(organization=org, brand=brand)
    for scope in (None, brand):
        with pytest.raises(IntegrityError), transaction.atomic():
            Pause.objects.create(organization=org, brand=scope)
    # Ended pauses do not count: a scope can be paused again and again.
    Pause.objects.filter(organization=org).update(ended_at=timezone.now())
    assert pause(Actor.system(), org, None) and pause(Actor.system(), org, brand)


def test_a_pause_pressed_at_the_same_moment_returns_the_one_that_won(org, brand, monkeypatch):
    from tertulia.publishing.models import Pause

    first = Pause.objects.create(organization=org, brand=brand)

    class Nobody:
        """What the other request saw a moment before the first pause was written."""

        def filter(self, **kwargs):
            return Pause.objects.none()

    monkeypatch.setattr(Pause.objects, "select_for_update", lambda: Nobody())
    assert pause(Actor.system(), org, brand) == first
