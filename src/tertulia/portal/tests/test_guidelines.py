"""A brand's guidelines: writing them, versions, who may (tertulia.portal.actions.guidelines)."""

from __future__ import annotations

from datetime import date

import pytest

from tertulia.core.models import AuditEntry
from tertulia.portal.actions.guidelines import (
    GuidelineIn,
    GuidelineRefused,
    StaleGuideline,
    create_guideline,
    delete_guideline,
    update_guideline,
)
from tertulia.portal.models import Guideline, GuidelineVersion

from .conftest import World, actor


def test_versions_keep_who_changed_what(world: World) -> None:
    made = create_guideline(
        actor(world.manager),
        world.north,
        GuidelineIn(kind="voice", title="Tono", body="Cercano", owner=world.cm),
    )
    update_guideline(
        actor(world.owner),
        made,
        GuidelineIn(
            kind="voice",
            title="Tono",
            body="Cercano y claro",
            owner=world.cm,
            last_reviewed=date(2026, 11, 1),
        ),
        version=1,
    )
    made.refresh_from_db()
    assert made.version == 2 and made.body == "Cercano y claro" and made.last_reviewed == date(2026, 11, 1)
    versions = list(GuidelineVersion.objects.filter(guideline=made).order_by("version"))
    assert [(v.version, v.body, v.changed_by) for v in versions] == [
        (1, "Cercano", world.manager),
        (2, "Cercano y claro", world.owner),
    ]
    entry = AuditEntry.objects.get(action="guideline.updated")
    assert entry.changes["version"] == [1, 2] and entry.changes["last_reviewed"] == [None, "2026-11-01"]
    # Saving the same values again is no new version.
    update_guideline(
        actor(world.owner),
        made,
        GuidelineIn(
            kind="voice",
            title="Tono",
            body="Cercano y claro",
            owner=world.cm,
            last_reviewed=date(2026, 11, 1),
        ),
        version=2,
    )
    assert GuidelineVersion.objects.filter(guideline=made).count() == 2


def test_a_stale_edit_is_refused(world: World) -> None:
    made = create_guideline(actor(world.manager), world.north, GuidelineIn(kind="legal", title="RGPD"))
    update_guideline(actor(world.manager), made, GuidelineIn(kind="legal", title="RGPD 2"), version=1)
    with pytest.raises(StaleGuideline):
        update_guideline(actor(world.owner), made, GuidelineIn(kind="legal", title="RGPD 3"), version=1)
    made.refresh_from_db()
    assert made.title == "RGPD 2"


def test_only_brand_managers_edit(world: World) -> None:
    for person in (world.cm, world.contributor, world.outsider):
        with pytest.raises(GuidelineRefused):
            create_guideline(actor(person), world.north, GuidelineIn(kind="voice", title="x"))
    assert not Guideline.objects.exists()
    made = create_guideline(actor(world.manager), world.north, GuidelineIn(kind="voice", title="x"))
    with pytest.raises(GuidelineRefused):
        delete_guideline(actor(world.cm), made)
    delete_guideline(actor(world.manager), made)
    assert not Guideline.objects.exists() and not GuidelineVersion.objects.exists()


def test_bad_values_are_refused(world: World) -> None:
    with pytest.raises(GuidelineRefused) as refused:
        create_guideline(
            actor(world.manager),
            world.north,
            GuidelineIn(kind="nope", title=" ", body="x" * 20_001, owner=world.outsider),
        )
    text = " ".join(refused.value.messages)
    assert "kind" in text and "title" in text and "20000" in text and "owner" in text
