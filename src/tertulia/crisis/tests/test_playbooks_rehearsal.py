"""The demo and the rehearsal path end to end, on the real parts: the demo's history teaches the
detector; a rehearsal staged on the sandbox reaches the inbox through the connector, the detector marks
the surge as a rehearsal, an alert is raised, crisis mode starts as a rehearsal (posts pause), the
checklist is run, crisis mode ends and the report is written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tertulia.connectors.sandbox.simulator.pump import run_due_ticks
from tertulia.core.actions.context import Actor
from tertulia.core.actions.rehearsals import stage_rehearsal
from tertulia.core.models import Brand, Organization, User
from tertulia.crisis.models import (
    Alert,
    Bucket,
    ChecklistItem,
    Crisis,
    CrisisState,
    EscalationStep,
    Playbook,
    Surge,
    Watch,
    WatchKind,
)
from tertulia.demo import content
from tertulia.demo.loader import PASSWORD_FILE, load_demo
from tertulia.inbox.ingest import poller
from tertulia.inbox.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_password_file():
    path = Path(settings.CONFIG.data_dir) / PASSWORD_FILE
    path.unlink(missing_ok=True)
    yield
    path.unlink(missing_ok=True)


def _main() -> Brand:
    org = Organization.objects.get(name=content.ORGANIZATION)
    return Brand.objects.get(organization=org, name=content.MAIN_BRAND["name"])


def test_the_demo_loads_history_a_playbook_a_chain_and_a_past_crisis_once():
    load_demo(rate_per_minute=12)
    brand = _main()
    watch = Watch.objects.get(brand=brand, kind=WatchKind.BRAND)
    buckets = Bucket.objects.filter(watch=watch)
    assert buckets.count() > 13 * 1440 * 0.9  # two weeks of minutes (a few quiet ones are empty)
    assert watch.counted_until is not None
    # A daily rhythm: nights are quieter than middays.
    night = sum(b.volume for b in buckets if b.minute.hour == 2)
    midday = sum(b.volume for b in buckets if b.minute.hour == 12)
    assert midday > 1.5 * night
    playbook = Playbook.objects.get(brand=brand, is_default=True)
    assert playbook.statements.count() >= 2
    assert all(s.approved_at is not None for s in playbook.statements.all())
    assert EscalationStep.objects.filter(brand=brand).count() == 3
    past = Crisis.objects.get(organization=brand.organization, state=CrisisState.CLOSED)
    assert past.title.startswith("Demo:") and "## How fast" in past.report and "Left undone" in past.report
    counts = (Bucket.objects.count(), Crisis.objects.count(), Playbook.objects.count())
    load_demo(rate_per_minute=12)
    assert (Bucket.objects.count(), Crisis.objects.count(), Playbook.objects.count()) == counts


def test_a_staged_rehearsal_goes_from_surge_to_report():
    from tertulia.crisis.detection.run import detect_all
    from tertulia.crisis.mode import end_crisis, start_crisis, tick

    load_demo(rate_per_minute=12)
    brand = _main()
    owner = User.objects.get(email=content.OWNER_EMAIL)
    actor = Actor.cli(owner)
    stage_rehearsal(actor, brand, minutes=15, multiplier=8)
    now = timezone.now() + timedelta(minutes=6)
    assert run_due_ticks(now) > 0
    poller.ensure_cursors(now)
    for cursor_id in poller.claim_due(limit=50, now=now):
        poller.poll(cursor_id)
    assert Message.objects.filter(brand=brand, direction="in").count() > 100  # the staged traffic arrived

    detect_all(now + timedelta(minutes=1))
    surge = Surge.objects.filter(brand=brand).first()
    assert surge is not None, "the detector found no surge in the staged rehearsal"
    assert surge.is_rehearsal
    alert = Alert.objects.get(surge=surge)
    assert alert.is_rehearsal

    crisis = start_crisis(actor, brand.organization, brand, "Ensayo", alert=alert, rehearsal=True)
    assert crisis.is_rehearsal and crisis.pause is not None and crisis.pause.is_crisis
    items = list(ChecklistItem.objects.filter(crisis=crisis))
    assert items, "the playbook's steps became the checklist"
    tick(actor, items[0], done=True, note="visto")
    closed = end_crisis(actor, crisis)
    closed.refresh_from_db()
    assert closed.state == CrisisState.CLOSED
    assert "Rehearsal" in closed.report and "✔" in closed.report and "Left undone" in closed.report
