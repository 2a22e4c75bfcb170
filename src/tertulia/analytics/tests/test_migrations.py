"""Person days moved to one row per person, channel and day (analytics 0002-0004): the old rows go,
rows a worker of the previous version writes while the upgrade runs go too, and going back works with
rows of the new layout in place (the old key, one row per person and day, could not hold them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org

pytestmark = pytest.mark.django_db(transaction=True)  # migrating needs committed rows


@pytest.fixture
def latest() -> Iterator[None]:
    yield
    call_command("migrate", verbosity=0)  # whatever happened, the next test has the whole schema


def old_person_day(brand: Brand, user: User, day: str) -> None:
    """A row as the previous version writes it: no channel, one per person and day."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_personday (organization_id, brand_id, user_id, day, replies,"
            " conversations, after_hours, weekend, first_responses) VALUES (%s, %s, %s, %s, 1, 1, 0, 0, %s)",
            [brand.organization_id, brand.pk, user.pk, day, "[]"],
        )


def count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analytics_personday")
        return int(cursor.fetchone()[0])


def test_person_days_migrate_forward_and_back(latest: None) -> None:
    org = make_org("Migraciones")
    brand = make_brand(org, "Marca")
    user = make_member(org, Role.ANALYST)
    channels: list[Channel] = [
        connect_channel(Actor.system("t"), brand, "sandbox", handle) for handle in ("tienda_a", "tienda_b")
    ]
    call_command("migrate", "analytics", "0001", verbosity=0)
    old_person_day(brand, user, "2026-01-01")
    call_command("migrate", "analytics", "0002", verbosity=0)
    assert count() == 0  # the old rows cannot be split by channel: they are counted again
    old_person_day(brand, user, "2026-01-02")  # an old worker, between the two steps of the upgrade
    call_command("migrate", "analytics", verbosity=0)
    assert count() == 0
    from tertulia.analytics.models import PersonDay

    for channel in channels:  # the new layout: the same person and day in two channels
        PersonDay.objects.create(
            organization=org, brand=brand, user=user, channel=channel, day="2026-01-03", replies=1
        )
    call_command("migrate", "analytics", "0001", verbosity=0)
    assert count() == 0
    old_person_day(brand, user, "2026-01-04")  # the old layout works again
    assert count() == 1
