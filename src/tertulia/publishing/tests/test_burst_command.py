from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tertulia.publishing.models import DeliveryTarget, TargetState


@pytest.mark.django_db
@pytest.mark.parametrize(("channels", "targets"), [(2, 20), (7, 23), (1, 3)])
def test_a_burst_has_exactly_the_targets_asked_for(channels: int, targets: int):
    out = io.StringIO()
    call_command("publishing_burst", "--channels", str(channels), "--targets", str(targets), stdout=out)
    summary = json.loads(out.getvalue())
    rows = DeliveryTarget.objects.filter(organization_id=summary["organization"])
    assert summary["targets"] == targets == rows.count()
    assert set(rows.values_list("state", flat=True)) == {TargetState.SCHEDULED}
    assert rows.values("channel").distinct().count() == channels
    texts = list(rows.values_list("payload__text", flat=True))
    assert len(set(texts)) == targets  # every target's text is its own: the proof counts them one by one
