"""The demo's portal data loads once and is what the pages show."""

from __future__ import annotations

from tertulia.demo.portal import GUIDELINES, seed_portal
from tertulia.portal.models import Contribution, Guideline, GuidelineVersion

from .conftest import World


def test_seed_portal_loads_once(world: World) -> None:
    assert seed_portal(world.north, world.owner) == f"portal: {len(GUIDELINES)} guidelines, 2 contributions"
    assert Guideline.objects.filter(brand=world.north).count() == len(GUIDELINES)
    assert GuidelineVersion.objects.count() == len(GUIDELINES)
    kinds = set(Contribution.objects.values_list("kind", "author"))
    assert kinds == {("idea", world.contributor.pk), ("flag", world.analyst.pk)}
    assert seed_portal(world.north, world.owner) == "portal: already loaded"
    assert Contribution.objects.count() == 2
