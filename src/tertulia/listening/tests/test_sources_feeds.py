"""RSS and Atom feeds as listening sources, read through the feeds connector from a local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tertulia.connectors import ratelimit
from tertulia.connectors.feeds import connector as feeds_connector
from tertulia.connectors.feeds.tests.server import FeedServer, LiveFeed
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, User
from tertulia.core.tests.factories import make_org
from tertulia.listening.actions.queries import create_query
from tertulia.listening.models import ListeningSource, Mention, QueryMatch, SourceKind
from tertulia.listening.sources import feeds
from tertulia.listening.sources.feeds import claim_due_feeds, poll_due_feeds, read_feed

HOLDER = "worker-1"
FIXTURES = Path(feeds_connector.__file__).parent / "tests" / "fixtures"


@pytest.fixture(autouse=True)
def polling_budget(db) -> Iterator[None]:
    """Production fetches a feed once a minute at most; these tests poll the same feed within a second."""
    ratelimit.register(
        feeds_connector.NETWORK, {feeds_connector.FETCH: ratelimit.Budget(limit=10_000, window_seconds=60)}
    )
    yield
    ratelimit.register(feeds_connector.NETWORK, feeds_connector.BUDGETS)


@pytest.fixture
def allow_loopback(settings) -> None:
    settings.TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES = True  # the test server is on 127.0.0.1


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer().running() as running:
        yield running


@pytest.fixture
def live(server: FeedServer, allow_loopback: None) -> LiveFeed:
    return LiveFeed(server)


def feed_source(org: Organization, url: str, name: str = "Blog del vino") -> ListeningSource:
    return ListeningSource.objects.create(organization=org, kind=SourceKind.FEED, name=name, url=url)


def poll(source: ListeningSource, now: datetime | None = None) -> int:
    """Claim the feed as the ticker would (at `now`), then read it as the task would."""
    assert claim_due_feeds(HOLDER, now=now) == [source.pk]
    return read_feed(source.pk, HOLDER)


def test_new_entries_become_mentions_once(org: Organization, brand: Brand, analyst: User, live: LiveFeed):
    wine = create_query(Actor(user=analyst, via="web"), brand, name="Vino", text="vino")
    live.add(2, text="Vino del año")
    source = feed_source(org, live.url)

    assert poll(source) == 2
    mention = Mention.objects.get(remote_id="urn:post:1")
    assert (mention.network, mention.source_id, mention.channel_name) == ("web", source.pk, "Live blog")
    assert mention.text == "Vino del año 1\n\nVino del año 1 body"
    assert mention.url == "https://blog.example/1"
    assert mention.published_at == datetime(2025, 6, 1, 0, 1, tzinfo=UTC)
    assert QueryMatch.objects.filter(query=wine).count() == 2
    source.refresh_from_db()
    assert source.holder == "" and source.last_error == "" and source.last_read_at is not None
    assert source.lease_until is not None
    assert source.lease_until >= timezone.now() + feeds.poll_interval() - timedelta(minutes=1)
    assert claim_due_feeds(HOLDER) == []  # not due again for a while

    live.add(3, text="Nada")
    later = timezone.now() + feeds.poll_interval() + timedelta(seconds=1)
    assert poll(source, now=later) == 3
    assert Mention.objects.count() == 5  # a feed source keeps what no query matched, too

    # Nothing new: the conditional GET is answered 304 and nothing is stored.
    source.refresh_from_db()
    assert poll(source, now=later + feeds.poll_interval() + timedelta(seconds=1)) == 0
    assert live.server.requests[-1].headers.get("if-none-match")
    assert Mention.objects.count() == 5


def test_an_atom_feed(org: Organization, server: FeedServer, allow_loopback: None):
    url = server.serve("/atom.xml", (FIXTURES / "atom.xml").read_bytes(), "application/atom+xml")
    source = feed_source(org, url)
    assert poll(source) == 2
    launch = Mention.objects.get(remote_id="urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a")
    assert launch.text.startswith("Acme launches a new product\n\nThe full article about Acme.")
    assert (launch.channel_name, launch.url) == ("Brand Watch", "https://watch.example/acme-launch")
    assert launch.author_name == "Sam Reporter"
    assert launch.published_at == datetime(2025, 6, 4, 9, 0, tzinfo=UTC)


def test_hostile_entries_are_plain_text(org: Organization, server: FeedServer, allow_loopback: None):
    url = server.serve("/hostile.xml", (FIXTURES / "hostile.xml").read_bytes())
    source = feed_source(org, url, name="Evil")
    assert poll(source) == 1
    mention = Mention.objects.get()
    assert "steal" not in mention.text and "<script" not in mention.text
    assert "<b>literal</b>" in mention.text  # escaped markup in the feed is text, kept as written
    assert mention.url == ""  # a javascript: link is never kept
    assert mention.channel_name == "Hostile"


def test_rtl_and_emoji_are_kept(org: Organization, server: FeedServer, allow_loopback: None):
    url = server.serve("/ar.xml", (FIXTURES / "i18n.xml").read_bytes())
    feed_source(org, url)
    assert poll(ListeningSource.objects.get()) == 1
    text = Mention.objects.get().text
    assert "\u202e" in text and "🎉" in text and "مرحبا" in text


def test_a_failing_feed_backs_off_with_its_error(org: Organization, server: FeedServer, allow_loopback: None):
    url = server.serve("/down.xml", b"oops", status=503)
    source = feed_source(org, url)
    source.last_read_at = timezone.now() - timedelta(hours=1)  # it worked an hour ago
    source.save()
    before = timezone.now()
    assert poll(source) == 0
    source.refresh_from_db()
    assert "503" in source.last_error and source.holder == ""
    assert source.lease_until is not None
    # The wait is the time since the last good read (so it doubles), not the usual interval.
    assert source.lease_until >= before + timedelta(minutes=59)

    server.serve("/down.xml", (FIXTURES / "rss2.xml").read_bytes())
    assert poll(source, now=source.lease_until + timedelta(seconds=1)) > 0
    source.refresh_from_db()
    assert source.last_error == ""


def test_a_feed_that_is_gone(org: Organization, server: FeedServer, allow_loopback: None):
    source = feed_source(org, server.url + "/missing.xml")
    assert poll(source) == 0
    source.refresh_from_db()
    assert "gone" in source.last_error
    assert source.lease_until is not None and source.lease_until > timezone.now()


def test_not_a_feed(org: Organization, server: FeedServer, allow_loopback: None):
    url = server.serve("/page.html", (FIXTURES / "not_a_feed.html").read_bytes(), "text/html")
    source = feed_source(org, url)
    assert poll(source) == 0
    source.refresh_from_db()
    assert "not an RSS or Atom feed" in source.last_error


def test_private_addresses_are_refused(org: Organization, live: LiveFeed, settings):
    settings.TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES = False
    source = feed_source(org, live.url)
    assert poll(source) == 0
    source.refresh_from_db()
    assert "private or reserved" in source.last_error
    assert live.server.requests == []


def test_a_failed_batch_moves_no_cursor(org: Organization, live: LiveFeed, monkeypatch):
    live.add(3)
    source = feed_source(org, live.url)

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("database went away")

    monkeypatch.setattr("tertulia.listening.sources.runner.ingest", broken)
    assert poll(source) == 0
    source.refresh_from_db()
    assert source.cursor == "" and not Mention.objects.exists()
    assert source.last_error  # said, in the person's words

    monkeypatch.undo()
    assert source.lease_until is not None
    assert poll(source, now=source.lease_until + timedelta(seconds=1)) == 3
    assert Mention.objects.count() == 3


def test_only_active_feeds_of_this_kind_are_claimed(org: Organization, live: LiveFeed):
    feed = feed_source(org, live.url)
    ListeningSource.objects.create(
        organization=org, kind=SourceKind.FEED, name="Off", url=live.url + "?off", is_active=False
    )
    ListeningSource.objects.create(
        organization=org, kind=SourceKind.MASTODON_PUBLIC, name="Masto", url="https://vino.example"
    )
    assert claim_due_feeds("w1") == [feed.pk]
    assert claim_due_feeds("w2") == []  # claimed: another worker does not read it too


def test_a_removed_feed_is_not_read(org: Organization, live: LiveFeed):
    live.add(1)
    source = feed_source(org, live.url)
    assert claim_due_feeds(HOLDER) == [source.pk]
    source.delete()
    assert read_feed(source.pk, HOLDER) == 0
    assert live.server.requests == []


def test_the_ticker_job_claims_and_reads(org: Organization, live: LiveFeed):
    live.add(2)
    source = feed_source(org, live.url)
    poll_due_feeds()  # tasks run inline in tests
    assert Mention.objects.filter(source=source).count() == 2


def test_two_organizations_share_the_feeds_budget(org: Organization, live: LiveFeed):
    ratelimit.register(feeds_connector.NETWORK, feeds_connector.BUDGETS)  # once a minute, for real
    live.add(1)
    first = feed_source(org, live.url)
    other = ListeningSource.objects.create(
        organization=make_org("Otra SA"), kind=SourceKind.FEED, name="Blog", url=live.url
    )
    assert sorted(claim_due_feeds(HOLDER)) == sorted([first.pk, other.pk])
    assert read_feed(first.pk, HOLDER) == 1
    assert read_feed(other.pk, HOLDER) == 0  # the feed was fetched a moment ago: wait, without an error
    other.refresh_from_db()
    assert other.last_error == "" and other.holder == ""
    assert other.lease_until is not None and other.lease_until <= timezone.now() + timedelta(seconds=61)
    assert len(live.server.requests) == 1
