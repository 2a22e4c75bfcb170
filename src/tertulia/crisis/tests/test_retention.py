"""Retention of the per-minute counts: old buckets go in batches, recent ones and those of a crisis's
window stay (a report recomputed later reads them), the setting is honoured and clamped, and the job is
registered on the ticker."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tertulia.core.tests.factories import make_brand
from tertulia.crisis import report as reports
from tertulia.crisis.models import Alert, AlertState, Bucket, Crisis, CrisisState, Surge, Watch
from tertulia.crisis.retention import prune_buckets, retention_days
from tertulia.tasks.ticker import JOBS

from .detect_support import NOW, Shop, brand_watch, shop

__all__ = ["shop"]

MINUTE = NOW.replace(second=0, microsecond=0)


def buckets(watch: Watch, *ages: timedelta, volume: int = 1) -> None:
    Bucket.objects.bulk_create(
        [Bucket(watch=watch, minute=MINUTE - age, volume=volume, people=volume) for age in ages]
    )


def ages(watch: Watch) -> set[timedelta]:
    return {MINUTE - minute for minute in Bucket.objects.filter(watch=watch).values_list("minute", flat=True)}


def days(n: float) -> timedelta:
    return timedelta(days=n)


def test_old_buckets_go_recent_ones_stay(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    buckets(watch, timedelta(minutes=3), days(1), days(28), days(35) - timedelta(minutes=1))
    buckets(watch, days(35) + timedelta(minutes=1), days(36), days(400))
    assert prune_buckets(now=MINUTE) == 3
    assert ages(watch) == {timedelta(minutes=3), days(1), days(28), days(35) - timedelta(minutes=1)}


def test_deletes_in_batches(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    buckets(watch, *(days(40) + timedelta(minutes=n) for n in range(10)))
    buckets(watch, days(2))
    with CaptureQueriesContext(connection) as queries:
        assert prune_buckets(now=MINUTE, batch=3) == 10
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 4  # 3 + 3 + 3 + 1: one short statement per slice
    assert ages(watch) == {days(2)}


def test_second_run_deletes_nothing(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    buckets(watch, days(1), days(50), days(60))
    assert prune_buckets(now=MINUTE, batch=1) == 2
    assert prune_buckets(now=MINUTE, batch=1) == 0
    assert ages(watch) == {days(1)}


def test_setting_is_honoured(shop: Shop, settings: Any) -> None:
    settings.TERTULIA_CRISIS_BUCKET_DAYS = 60
    watch = brand_watch(shop.brand)
    buckets(watch, days(40), days(59), days(61))
    assert retention_days() == 60
    assert prune_buckets(now=MINUTE) == 1
    assert ages(watch) == {days(40), days(59)}


def test_setting_under_the_learned_history_is_clamped(shop: Shop, settings: Any) -> None:
    settings.TERTULIA_CRISIS_BUCKET_DAYS = 3  # would starve the 28-day baseline
    watch = brand_watch(shop.brand)
    buckets(watch, days(4), days(28) + timedelta(hours=23), days(30))
    assert retention_days() == 29
    assert prune_buckets(now=MINUTE) == 1
    assert ages(watch) == {days(4), days(28) + timedelta(hours=23)}


def test_default_without_the_setting(shop: Shop, settings: Any) -> None:
    del settings.TERTULIA_CRISIS_BUCKET_DAYS
    assert retention_days() == 35


def _closed_crisis(shop: Shop, opened: datetime, closed: datetime, *, whole_org: bool = False) -> Crisis:
    return Crisis.objects.create(
        organization=shop.org,
        brand=None if whole_org else shop.brand,
        title="Caída",
        opened_at=opened,
        closed_at=closed,
        state=CrisisState.CLOSED,
    )


def test_a_closed_crisis_keeps_its_window_and_its_report_numbers(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    other = brand_watch(make_brand(shop.org, "Otra marca"))
    opened = MINUTE - days(90)
    crisis = _closed_crisis(shop, opened, opened + timedelta(hours=3))
    inside = [
        timedelta(hours=2),
        timedelta(minutes=30),
        timedelta(0),
        -timedelta(hours=1),
        -timedelta(hours=3),
    ]
    buckets(watch, *(days(90) + offset for offset in inside), volume=7)
    buckets(watch, days(90) + timedelta(hours=2, minutes=1), days(90) - timedelta(hours=3, minutes=1))
    buckets(other, days(90))  # another brand's watch: its crisis's report never reads it
    before = reports.measure(crisis)

    assert prune_buckets(now=MINUTE) == 3
    assert ages(watch) == {days(90) + offset for offset in inside}
    assert not Bucket.objects.filter(watch=other).exists()
    after = reports.measure(crisis)
    assert (after.volume, after.peak_per_minute, after.peak_at) == (
        before.volume,
        before.peak_per_minute,
        before.peak_at,
    )
    assert after.volume == 7 * 2  # the report counts from crisis mode (no alert) to its close, excluded
    assert prune_buckets(now=MINUTE) == 0


def test_the_window_starts_at_the_surge_and_covers_every_brand_of_a_whole_org_crisis(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    other = brand_watch(make_brand(shop.org, "Otra marca"))
    opened = MINUTE - days(50)
    surge = Surge.objects.create(
        organization=shop.org,
        brand=shop.brand,
        watch=watch,
        metric="volume",
        started_at=opened - timedelta(hours=5),
        detected_at=opened - timedelta(hours=5) + timedelta(minutes=2),
        window_minutes=5,
        observed=50,
        expected=5,
        ratio=10,
        p_value=1e-9,
    )
    alert = Alert.objects.create(
        organization=shop.org,
        brand=shop.brand,
        surge=surge,
        title="Alerta",
        raised_at=surge.detected_at,
        state=AlertState.RESOLVED,
    )
    crisis = _closed_crisis(shop, opened, opened + timedelta(hours=1), whole_org=True)
    Crisis.objects.filter(pk=crisis.pk).update(alert=alert)
    kept = {days(50) + timedelta(hours=5), days(50) + timedelta(hours=3), days(50)}
    buckets(watch, *kept, days(50) + timedelta(hours=5, minutes=1))
    buckets(other, days(50) + timedelta(hours=4), days(50) - timedelta(hours=2))
    assert prune_buckets(now=MINUTE) == 2
    assert ages(watch) == kept
    assert ages(other) == {days(50) + timedelta(hours=4)}
    assert Surge.objects.filter(pk=surge.pk).exists()  # surges are small rows: kept


def test_an_active_crisis_keeps_everything_since_before_it_opened(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    Crisis.objects.create(
        organization=shop.org,
        brand=shop.brand,
        title="Sigue",
        opened_at=MINUTE - days(40),
        state=CrisisState.ACTIVE,
    )
    buckets(watch, days(40) + timedelta(hours=2), days(38), days(40) + timedelta(hours=2, minutes=1))
    assert prune_buckets(now=MINUTE) == 1
    assert ages(watch) == {days(40) + timedelta(hours=2), days(38)}


def test_the_job_runs_hourly() -> None:
    import tertulia.crisis.tasks  # noqa: F401  # registers the jobs

    job = JOBS["crisis.prune"]
    assert job.every == 3600.0
