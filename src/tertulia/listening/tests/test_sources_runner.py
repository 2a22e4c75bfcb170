"""The background reading: stream leases, the supervisor picking sources up and letting them go, stopping.

The supervisor's `scan` is called directly with a reader that needs no network, so each step is
checked on its own; the readers run in real threads (`transaction=True`), synchronised with events
so that only one thread uses the database at a time (SQLite's in-memory test database does not
make writers wait for each other).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tertulia.connectors.base import AuthenticationFailed, RateLimited, TemporaryFailure
from tertulia.core.models import Organization
from tertulia.listening.ingest import Item
from tertulia.listening.models import ListeningSource, Mention, SourceKind
from tertulia.listening.sources import runner
from tertulia.listening.sources.runner import (
    LEASE_SECONDS,
    ListeningRunner,
    claim_streams,
    release_streams,
    renew_streams,
    save_batch,
)
from tertulia.tasks.ticker import JOBS

NOW = timezone.now()


def stream_source(org: Organization, name: str = "Público", **fields: object) -> ListeningSource:
    return ListeningSource.objects.create(
        organization=org,
        kind=SourceKind.MASTODON_PUBLIC,
        name=name,
        url=f"https://{name.lower()}.example",
        **fields,
    )


class QuietReader:
    """A stream that delivers nothing and stays open until aborted; says when it is reading."""

    def __init__(self, source: ListeningSource, holder: str, stopping: threading.Event, log: Readers) -> None:
        self.source, self.stopping, self.log = source, stopping, log

    def read(self) -> int:
        self.log.reading[self.source.pk].set()
        self.stopping.wait(60)
        return 0

    def abort(self) -> None:
        self.stopping.set()


class Readers:
    def __init__(self) -> None:
        self.reading: dict[int, threading.Event] = {}

    def factory(self, source: ListeningSource, holder: str, stopping: threading.Event) -> QuietReader:
        self.reading.setdefault(source.pk, threading.Event())
        return QuietReader(source, holder, stopping, self)

    def wait(self, source: ListeningSource) -> None:
        self.reading.setdefault(source.pk, threading.Event())
        assert self.reading[source.pk].wait(30), "the stream thread never started reading"


@pytest.fixture
def readers() -> Readers:
    return Readers()


@pytest.fixture
def supervisor(readers: Readers) -> Iterator[ListeningRunner]:
    made = ListeningRunner("w1", limit=10, factory=readers.factory)
    yield made
    made.shutdown()


# ---------------------------------------------------------------- leases


def test_a_free_stream_is_claimed_by_one_worker(org: Organization):
    source = stream_source(org)
    assert claim_streams("w1", 10, NOW) == [source.pk]
    assert claim_streams("w2", 10, NOW) == []
    source.refresh_from_db()
    assert source.holder == "w1" and source.lease_until == NOW + timedelta(seconds=LEASE_SECONDS)


def test_an_expired_lease_is_taken_over(org: Organization):
    source = stream_source(org)
    claim_streams("w1", 10, NOW)
    later = NOW + timedelta(seconds=LEASE_SECONDS + 1)  # w1 stalled and did not renew
    assert claim_streams("w2", 10, later) == [source.pk]
    assert renew_streams("w1", [source.pk], later) == set()  # w1 learns it lost the stream
    assert renew_streams("w2", [source.pk], later) == {source.pk}


def test_renewing_extends_the_lease(org: Organization):
    source = stream_source(org)
    claim_streams("w1", 10, NOW)
    later = NOW + timedelta(seconds=60)
    assert renew_streams("w1", [source.pk], later) == {source.pk}
    assert claim_streams("w2", 10, NOW + timedelta(seconds=LEASE_SECONDS + 1)) == []


def test_feeds_and_inactive_sources_are_not_streams(org: Organization):
    stream_source(org, is_active=False)
    ListeningSource.objects.create(
        organization=org, kind=SourceKind.FEED, name="Blog", url="https://b.example"
    )
    assert claim_streams("w1", 10, NOW) == []


def test_the_limit_per_worker(org: Organization):
    for n in range(3):
        stream_source(org, name=f"S{n}")
    assert len(claim_streams("w1", 2, NOW)) == 2
    assert len(claim_streams("w2", 2, NOW)) == 1
    assert claim_streams("w3", 0, NOW) == []


def test_releasing_gives_the_stream_back_at_once(org: Organization):
    source = stream_source(org)
    claim_streams("w1", 10, NOW)
    assert release_streams("w1") == 1
    assert claim_streams("w2", 10, NOW) == [source.pk]


def test_a_batch_is_saved_only_by_the_holder(org: Organization):
    source = stream_source(org)
    claim_streams("w1", 10, timezone.now())
    item = Item(network="mastodon", remote_id="https://x/1", text="hola", published_at=NOW)
    save_batch(source, [item], "17", "w1")
    source.refresh_from_db()
    assert source.cursor == "17" and Mention.objects.count() == 1
    with pytest.raises(runner.LeaseLost):
        save_batch(
            source,
            [Item(network="mastodon", remote_id="https://x/2", text="b", published_at=NOW)],
            "18",
            "w2",
        )
    source.refresh_from_db()
    assert source.cursor == "17" and Mention.objects.count() == 1  # all or nothing


def test_a_failing_alert_after_the_commit_is_logged_not_raised(
    org: Organization, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    source = stream_source(org)
    claim_streams("w1", 10, timezone.now())
    seen = []

    def broken(result: object) -> None:
        seen.append(result)
        raise RuntimeError("the mail server is down")

    monkeypatch.setattr(runner, "after_ingest", broken)
    item = Item(network="mastodon", remote_id="https://x/1", text="hola", published_at=NOW)
    result = save_batch(source, [item], "17", "w1")
    assert seen == [result] and result.stored == 1  # the alerts ran, on what was stored
    source.refresh_from_db()
    assert source.cursor == "17" and Mention.objects.count() == 1
    assert "alerts after a stored batch failed" in caplog.text and "mail server is down" in caplog.text


@pytest.mark.parametrize(
    ("failures", "error", "low", "high"),
    [
        (0, None, runner.RECONNECT_SECONDS, runner.RECONNECT_SECONDS),
        (1, TemporaryFailure("x"), 5, 5),
        (3, TemporaryFailure("x"), 20, 20),
        (50, TemporaryFailure("x"), runner.MAX_BACKOFF_SECONDS, runner.MAX_BACKOFF_SECONDS),
        (1, AuthenticationFailed("x"), runner.REFUSED_BACKOFF_SECONDS, runner.REFUSED_BACKOFF_SECONDS),
        (1, RateLimited("x", retry_after=120), 120, 120),
    ],
)
def test_backoff(failures, error, low, high):
    assert low <= runner.backoff(failures, error) <= high


# ---------------------------------------------------------------- the supervisor


@pytest.mark.django_db(transaction=True)
def test_sources_are_picked_up_and_let_go(org: Organization, supervisor: ListeningRunner, readers: Readers):
    first = stream_source(org, name="Uno")
    supervisor.scan()
    readers.wait(first)
    assert set(supervisor.streams) == {first.pk}

    second = stream_source(org, name="Dos")  # added while running: the next scan starts it
    supervisor.scan()
    readers.wait(second)
    assert set(supervisor.streams) == {first.pk, second.pk}

    # Switched off: stopped and its lease given back. Removed: stopped.
    thread_one, thread_two = supervisor.streams[first.pk], supervisor.streams[second.pk]
    ListeningSource.objects.filter(pk=first.pk).update(is_active=False)
    second.delete()
    supervisor.scan()
    thread_one.join(30)
    thread_two.join(30)
    assert not thread_one.is_alive() and not thread_two.is_alive()
    assert supervisor.streams == {}
    first.refresh_from_db()
    assert first.holder == "" and first.lease_until is None


@pytest.mark.django_db(transaction=True)
def test_a_stream_taken_over_is_stopped(org: Organization, supervisor: ListeningRunner, readers: Readers):
    source = stream_source(org)
    supervisor.scan()
    readers.wait(source)
    thread = supervisor.streams[source.pk]
    later = timezone.now() + timedelta(seconds=LEASE_SECONDS + 1)  # this worker stalled
    assert claim_streams("w2", 10, later) == [source.pk]
    supervisor.scan(later)
    thread.join(30)
    assert not thread.is_alive() and supervisor.streams == {}
    source.refresh_from_db()
    assert source.holder == "w2"  # not given back: it is someone else's now


@pytest.mark.django_db(transaction=True)
def test_shutdown_stops_every_stream_and_releases(org: Organization, readers: Readers):
    sources = [stream_source(org, name=f"S{n}") for n in range(3)]
    supervisor = ListeningRunner("w1", limit=10, factory=readers.factory)
    supervisor.scan()
    for source in sources:
        readers.wait(source)
    threads = list(supervisor.streams.values())
    supervisor.shutdown()
    assert not any(thread.is_alive() for thread in threads)
    assert not ListeningSource.objects.exclude(holder="").exists()
    assert claim_streams("w2", 10) == sorted(source.pk for source in sources)


@pytest.mark.django_db(transaction=True)
def test_the_runner_thread_starts_and_stops(org: Organization, readers: Readers):
    source = stream_source(org)
    supervisor = ListeningRunner("w1", limit=10, factory=readers.factory, scan_seconds=3600)
    supervisor.start()
    readers.wait(source)  # the first scan happens at once
    runner.stop_listening(supervisor)
    assert not supervisor.is_alive()
    connection.close()
    source.refresh_from_db()
    assert source.holder == ""


def test_start_listening_registers_the_feed_poller(settings):
    settings.TERTULIA_LISTENING_STREAMS = 0  # no stream threads in this worker
    assert runner.start_listening() is None
    assert "listening.feeds_due" in JOBS
    runner.stop_listening(None)
