"""A dry run tells what a rule would have done over 30 days, and does nothing."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.apps import apps
from django.utils import timezone

from tertulia.inbox.models import Message
from tertulia.moderation import dryrun
from tertulia.moderation.choices import ActionStatus, ActionType
from tertulia.moderation.dryrun import dry_run

from .conftest import COMPLAINT, INSULT, QUESTION, SPAM, World, ingest_items, rule

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_a_dry_run_reports_outcomes_after_the_guardrails_and_changes_nothing(world: World, item) -> None:
    ingest_items(
        world.channel,
        [
            item(INSULT, author="troll"),
            item(INSULT, author="bloguera", followers=10_000),
            item(COMPLAINT, author="cliente"),
            item(QUESTION, author="curiosa"),
            item(SPAM, author="spammer"),
        ],
    )
    old = ingest_items(world.channel, [item(INSULT, author="antiguo")])[0]
    Message.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    candidate = rule(
        world,
        {"sentiments": ["negative"], "intents": ["abuse", "complaint"]},
        [{"type": "block"}, {"type": "tag", "tag": "mal"}],
        enabled=False,
    )
    before = _row_counts()
    with (
        mock.patch("tertulia.moderation.network.open_connector") as opened,
        mock.patch("tertulia.connectors.registry.open_connector") as opened_too,
    ):
        report = dry_run(candidate)
    assert _row_counts() == before
    assert not opened.called and not opened_too.called

    # The troll is blocked; the complaint and the blogger are escalated instead.
    assert (report.scanned, report.matched) == (5, 3)
    assert report.count(ActionType.BLOCK, ActionStatus.APPLIED) == 1
    assert report.count(ActionType.BLOCK, ActionStatus.ESCALATED_INSTEAD) == 2
    assert report.count(ActionType.TAG, ActionStatus.APPLIED) == report.matched
    sample = {s.author_handle: s for s in report.sample}
    assert "antiguo" not in sample and "curiosa" not in sample
    complaint = sample["cliente"]
    assert [w.status for w in complaint.would] == [ActionStatus.ESCALATED_INSTEAD, ActionStatus.APPLIED]
    assert "complaining" in complaint.would[0].guardrail
    assert report.lines[0].action_type == ActionType.BLOCK  # in the order of the action types


def test_a_dry_run_reads_in_pages_and_stops_at_its_cap(world: World, item, monkeypatch) -> None:
    ingest_items(world.channel, [item(SPAM, author=f"s{i}") for i in range(7)])
    candidate = rule(world, {"intents": ["spam"]}, [{"type": "hide"}], enabled=False)
    monkeypatch.setattr(dryrun, "BATCH", 2)
    full = dry_run(candidate)
    assert (full.scanned, full.matched, full.truncated) == (7, 7, False)
    assert full.count(ActionType.HIDE, ActionStatus.APPLIED) == 7
    monkeypatch.setattr(dryrun, "MAX_SCANNED", 4)
    capped = dry_run(candidate)
    assert (capped.scanned, capped.truncated) == (4, True)
    monkeypatch.setattr(dryrun, "SAMPLE", 3)
    assert len(dry_run(candidate).sample) == 3
