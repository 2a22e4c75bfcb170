"""Counting into buckets: idempotent, late data lands in its minute, other brands and our own replies are
not counted, query watches count their matches; watches exist for every brand and active query."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from tertulia.core.tests.factories import make_brand
from tertulia.crisis.detection import counting
from tertulia.crisis.detection.run import process
from tertulia.crisis.models import Bucket, Watch, WatchKind
from tertulia.crisis.tests.detect_support import NOW, Shop, brand_watch, shop, write
from tertulia.inbox.models import Direction
from tertulia.listening.models import ListeningQuery, Mention, QueryMatch

__all__ = ["shop"]
M = timedelta(minutes=1)


def _buckets(watch: Watch) -> list[tuple[str, int, int]]:
    return [
        (f"{b.minute:%H:%M}", b.volume, b.negative)
        for b in Bucket.objects.filter(watch=watch).order_by("minute")
    ]


def test_counting_twice_gives_the_same_buckets(shop: Shop) -> None:
    minute = NOW.replace(second=0) - 3 * M
    write(shop.channel, minute + timedelta(seconds=5), 3, negative=1)
    write(shop.channel, minute + M, 2)
    write(shop.channel, minute + M, 4, direction=Direction.OUTBOUND)  # our replies are not a surge
    other = make_brand(shop.org, "Otra")
    watch = brand_watch(shop.brand)
    assert counting.count(watch, NOW) == 2
    first = _buckets(watch)
    assert first == [("12:27", 3, 1), ("12:28", 2, 0)]
    assert counting.count(watch, NOW) == 0  # nothing changed, nothing written
    assert _buckets(watch) == first
    assert watch.counted_until == NOW.replace(second=0)  # the minute under way
    # The minute under way is counted as far as it has gone, and set again by the next pass.
    write(shop.channel, NOW - timedelta(seconds=10), 2)
    write(shop.channel, NOW + timedelta(seconds=5), 1)  # after `now`: not yet
    counting.count(watch, NOW, late_minutes=1)
    assert _buckets(watch)[-1] == ("12:30", 2, 0)
    counting.count(watch, NOW + timedelta(seconds=20), late_minutes=1)
    assert _buckets(watch)[-1] == ("12:30", 3, 0)
    assert _buckets(watch)[:2] == first
    assert not Bucket.objects.filter(watch=brand_watch(other)).exists()


def test_people_are_counted_once_per_minute_by_their_network_id(shop: Shop) -> None:
    minute = NOW.replace(second=0) - 3 * M
    write(shop.channel, minute, 5, author="@ana")  # one person, five messages
    write(shop.channel, minute + timedelta(seconds=30), 2)  # two more people
    anonymous = write(shop.channel, minute + timedelta(seconds=40), 2)
    Message = type(anonymous[0])
    # No handle and no network id: each such message counts as its own person.
    Message.objects.filter(pk__in=[m.pk for m in anonymous]).update(author_handle="", author_remote_id="")
    # The same network id under two handles (a renamed account) is one person.
    renamed = write(shop.channel, minute + M, 2)
    Message.objects.filter(pk__in=[m.pk for m in renamed]).update(author_remote_id="did:plc:same")
    watch = brand_watch(shop.brand)
    counting.count(watch, NOW)
    people = dict(Bucket.objects.filter(watch=watch).values_list("minute__minute", "people"))
    assert people == {27: 1 + 2 + 2, 28: 1}
    assert _buckets(watch) == [("12:27", 9, 0), ("12:28", 2, 0)]


def test_a_late_message_lands_in_its_minute_at_the_next_pass(shop: Shop) -> None:
    minute = NOW.replace(second=0) - 3 * M
    write(shop.channel, minute, 1)
    watch = brand_watch(shop.brand)
    counting.count(watch, NOW)
    write(shop.channel, minute + timedelta(seconds=30), 2, negative=2)  # arrives after its minute was counted
    counting.count(watch, NOW + M)
    assert _buckets(watch) == [("12:27", 3, 2)]
    # Far too late (a backfill of history): not counted, it must not look like a surge now.
    write(shop.channel, NOW - timedelta(hours=5), 50)
    counting.count(watch, NOW + 2 * M)
    assert _buckets(watch) == [("12:27", 3, 2)]


def test_a_new_watch_counts_its_history_once(shop: Shop) -> None:
    write(shop.channel, NOW - timedelta(days=3), 4)
    write(shop.channel, NOW - timedelta(days=40), 4)  # beyond the 28 days learned from
    watch = brand_watch(shop.brand)
    counting.count(watch, NOW)
    assert sum(b.volume for b in Bucket.objects.filter(watch=watch)) == 4


def test_query_watches_count_matches_by_publication(shop: Shop) -> None:
    query = ListeningQuery.objects.create(organization=shop.org, brand=shop.brand, name="q", text="tienda")
    counting.ensure_watches()
    watch = Watch.objects.get(kind=WatchKind.QUERY, query=query)
    at = NOW.replace(second=0) - 2 * M
    for i in range(3):
        mention = Mention.objects.create(
            organization=shop.org, network="bluesky", remote_id=f"r{i}", text="la tienda", published_at=at
        )
        QueryMatch.objects.create(
            query=query, mention=mention, published_at=at, sentiment="negative" if i else "neutral"
        )
    counting.count(watch, NOW)
    assert _buckets(watch) == [("12:28", 3, 2)]


def test_ensure_watches_follows_brands_and_active_queries(shop: Shop) -> None:
    query = ListeningQuery.objects.create(organization=shop.org, brand=shop.brand, name="q", text="tienda")
    assert counting.ensure_watches() == 2
    assert counting.ensure_watches() == 0
    assert Watch.objects.filter(kind=WatchKind.BRAND, brand=shop.brand).count() == 1
    query.is_active = False
    query.save()
    counting.ensure_watches()
    assert not Watch.objects.get(query=query).is_active
    query.is_active = True
    query.save()
    counting.ensure_watches()
    assert Watch.objects.get(query=query).is_active


def test_a_watch_is_processed_once_per_run_of_the_job(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    assert process(watch.pk, NOW) == []
    # Another worker's ticker a few seconds later: already done.
    assert process(watch.pk, NOW + timedelta(seconds=8)) is None
    assert process(watch.pk, NOW + timedelta(seconds=20)) == []  # the next run, 20 s on
    assert process(watch.pk, NOW + M) == []


@pytest.mark.django_db(transaction=True)
def test_a_watch_held_by_one_worker_is_skipped_by_the_other(shop: Shop) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE SKIP LOCKED) need PostgreSQL")
    watch = brand_watch(shop.brand)
    held, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                Watch.objects.select_for_update().get(pk=watch.pk)
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(30)
        assert process(watch.pk, NOW) is None  # skipped, not waited for
    finally:
        release.set()
        thread.join()
    assert process(watch.pk, NOW) == []  # once the other is done, it is this worker's turn
