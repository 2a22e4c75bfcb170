"""Sustained inbox ingest through the whole pipeline, and how soon a message is visible in the inbox.

Feeds pre-generated InboundItems to `tertulia.inbox.ingest.pipeline.ingest` the way the poller
does: pages of 100 items of one channel, each page and its cursor in one transaction, several
channels taken in turn. The pipeline does everything it does in production: store (deduplicated),
thread, contacts, analyse (tertulia.nlp), route and the SLA clock, live notification.

Traffic: the sandbox simulator's corpus (Spanish and English, every category, some crisis
messages), a few thousand authors of whom some write often, mentions and quotes (each its own
conversation), replies under the brand's recent posts (existing threads), DMs (one thread per
person), some answers written by the brand on the network itself, a few hostile texts (markup,
zero-width and right-to-left characters, emoji floods, huge texts), and now and then a page that
repeats the end of the previous one (a poll overlap: duplicates to skip).

Visibility: a separate process (as the web process is in production) is told of each page once
its transaction commits (as an open inbox page is told by the live event), then asks
`tertulia.inbox.selectors.conversation_page` for that channel's newest open conversation until
it holds the page's newest item; items are written with increasing times, so the whole page (one
transaction) is then visible. A message's latency runs from the moment its page was handed to
the pipeline to the read that returned it. The reader adds about one read per page.

Usage (a throwaway data directory, with the settings `tertulia demo` uses, unless
TERTULIA_DATA_DIR is set; PostgreSQL when DATABASE_URL is set, preferably a fresh database):

    python bench/inbox_ingest.py [--messages 30000] [--channels 4] [--workers 1]
    DATABASE_URL=postgresql://... REDIS_URL=redis://... python bench/inbox_ingest.py
    python bench/inbox_ingest.py --messages 5000 --profile /tmp/ingest.prof --no-reader

Prints one line per figure. No figure here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import multiprocessing
import os
import pickle
import platform
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tertulia.connectors.base import InboundItem, RemoteAuthor
    from tertulia.core.models import Brand, Channel, User

PAGE_SIZE = 100  # as tertulia.inbox.ingest.poller.PAGE_SIZE
START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
STEP = timedelta(milliseconds=20)  # network time between two items: strictly increasing
# The mix of a busy brand's inbox (shares of items).
KINDS = {"mention": 0.33, "quote": 0.04, "reply": 0.42, "dm": 0.21}
CATEGORY_WEIGHTS = {
    "praise": 0.2,
    "question": 0.3,
    "complaint": 0.2,
    "spam": 0.1,
    "insult": 0.05,
    "off_topic": 0.15,
}
OURS_SHARE = 0.05  # replies and DMs written by the brand's own account on the network itself
CRISIS_SHARE = 0.02
HOSTILE_SHARE = 0.01
OVERLAP_SHARE = 0.05  # pages that begin with the last items of the previous one
OVERLAP_ITEMS = 5
HOSTILE = (
    "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
    "he\u200bl\u200blo\u200d \u202egnirts desrever\u202c ¿qué tal?",
    "🔥" * 3000,
    "reembolso ya " * 4000,
    '\' OR 1=1; DROP TABLE inbox_message; -- "quoted" NEAR(a b) *',
    "\u0645\u0631\u062d\u0628\u0627 \u202b<b>bold</b>\u202c 👩\u200d👩\u200d👧\u200d👦" * 50,
)
BRAND_ANSWERS = {
    "es": (
        "¡Gracias por escribirnos! Te respondemos por privado",
        "Lo sentimos mucho, ya lo estamos mirando",
    ),
    "en": ("Thanks for reaching out! We'll DM you", "So sorry about this, we're looking into it now"),
}


@dataclass(frozen=True)
class World:
    brand: Brand
    channels: list[Channel]
    user: User


@dataclass(frozen=True)
class Page:
    """One channel's page, pickled: a worker's heap holds what it reads now, not the whole run's
    traffic (about 100,000 more objects for every full garbage collection to walk)."""

    channel_index: int
    packed: bytes

    @classmethod
    def of(cls, channel_index: int, items: list[InboundItem]) -> Page:
        return cls(channel_index, pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL))

    def items(self) -> list[InboundItem]:
        items: list[InboundItem] = pickle.loads(self.packed)  # noqa: S301  (made by this script)
        return items


@dataclass(frozen=True)
class PageTiming:
    channel_id: int
    newest: float  # the page's newest item, as a POSIX timestamp
    received: float  # time.monotonic() when handed to the pipeline
    committed: float  # time.monotonic() after the transaction committed
    created: int
    duplicates: int


@dataclass
class ChannelTraffic:
    """What one channel's generator remembers: the brand's recent posts and the last page."""

    channel: Channel
    posts: list[str] = field(default_factory=list)
    last_page: list[InboundItem] = field(default_factory=list)


def options() -> argparse.Namespace:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--messages", type=int, default=30_000, help="new messages to ingest")
    parser.add_argument("--channels", type=int, default=4, help="channels of the brand, read in turn")
    parser.add_argument("--authors", type=int, default=6_000, help="distinct people writing")
    parser.add_argument("--workers", type=int, default=1, help="ingesting threads (channels split)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-reader", action="store_true", help="no visibility reader (for profiling)")
    parser.add_argument("--profile", default="", help="write a cProfile of the ingest here (one worker)")
    return parser.parse_args()


def setup_django() -> None:
    os.environ.setdefault("TERTULIA_DATA_DIR", tempfile.mkdtemp(prefix="tertulia-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")
    import django

    django.setup()


def make_world(channels: int, seed: int) -> World:
    """An organization, one brand, `channels` sandbox channels with their poller cursors."""
    from tertulia.core.actions.brands import create_brand
    from tertulia.core.actions.channels import connect_channel
    from tertulia.core.actions.context import Actor
    from tertulia.core.actions.organizations import create_organization
    from tertulia.core.models import User
    from tertulia.inbox.ingest.poller import ensure_cursors

    actor = Actor.system("bench")
    tag = f"{seed}{time.time_ns() % 10**9}"  # unique per run: a reused PostgreSQL database
    user = User.objects.create_user(email=f"bench{tag}@example.com", password=None)
    brand = create_brand(actor, create_organization(actor, f"Bench {tag}", owner=user), name="Bench brand")
    made = [
        connect_channel(actor, brand, "sandbox", f"@bench{tag}_{n}", f"Bench {n}") for n in range(channels)
    ]
    ensure_cursors()
    return World(brand=brand, channels=made, user=user)


def make_authors(count: int, rng: random.Random) -> list[RemoteAuthor]:
    from tertulia.connectors.base import RemoteAuthor

    authors = []
    for n in range(count):
        # Reach: most people have a few hundred followers, a handful are influencers.
        followers = int(rng.lognormvariate(5.5, 1.6))
        handle = f"user{n}_{rng.randrange(10**6)}"
        authors.append(
            RemoteAuthor(
                remote_id=f"a{n}",
                handle=handle,
                display_name=f"Person {n}",
                followers_count=followers,
                profile_url=f"https://sandbox.example/@{handle}",
            )
        )
    return authors


class Traffic:
    """Pages of realistic items, in the order the poller would read them."""

    def __init__(self, world: World, authors: Sequence[RemoteAuthor], rng: random.Random) -> None:
        self.rng = rng
        self.authors = authors
        # Some people write often: weights fall with rank (a Zipf-like community).
        self.cum_weights = list(_accumulate([1 / (rank + 1) ** 0.8 for rank in range(len(authors))]))
        self.channels = [ChannelTraffic(channel) for channel in world.channels]
        self.clock = START
        self.next_id = 1

    def pages(self, messages: int) -> list[Page]:
        pages: list[Page] = []
        made = 0
        while made < messages:
            index = len(pages) % len(self.channels)
            fresh = min(PAGE_SIZE, messages - made)
            pages.append(Page.of(index, self._page(self.channels[index], fresh)))
            made += fresh
        return pages

    def _page(self, state: ChannelTraffic, fresh: int) -> list[InboundItem]:
        repeated: list[InboundItem] = []
        if state.last_page and self.rng.random() < OVERLAP_SHARE:
            repeated = state.last_page[-OVERLAP_ITEMS:]
            fresh = max(fresh - len(repeated), 1)
        items = [self._item(state) for _ in range(fresh)]
        state.last_page = items
        return [*repeated, *items]

    def _item(self, state: ChannelTraffic) -> InboundItem:
        from tertulia.connectors.base import InboundItem, InboundKind

        self.clock += STEP
        self.next_id += 1
        if not state.posts or self.next_id % 150 == 0:
            state.posts = [*state.posts[-29:], f"p{self.next_id}"]  # the brand posted something
            self.next_id += 1
        kind = self.rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        author = self.rng.choices(self.authors, cum_weights=self.cum_weights)[0]
        language = self.rng.choice(("es", "en"))
        ours = kind in ("reply", "dm") and self.rng.random() < OURS_SHARE
        text = self._answer(language) if ours else self._text(language)
        writer = self._brand_author(state.channel) if ours else author
        remote_id, key, in_reply_to, hint = str(self.next_id), "", None, language
        if kind == "reply":
            # Replies favour the newest posts, as comments do.
            key = in_reply_to = state.posts[-1 - min(int(self.rng.expovariate(0.5)), len(state.posts) - 1)]
        elif kind == "dm":
            remote_id, key, hint = f"dm-{self.next_id}", f"dm:{author.remote_id}:{state.channel.pk}", ""
        return InboundItem(
            remote_id=remote_id,
            kind={"mention": InboundKind.MENTION, "quote": InboundKind.QUOTE}.get(
                kind, InboundKind.DIRECT_MESSAGE if kind == "dm" else InboundKind.REPLY
            ),
            author=writer,
            text=text,
            created_at=self.clock,
            url=f"https://sandbox.example/@{writer.handle}/{remote_id}",
            in_reply_to=in_reply_to,
            conversation_key=key,
            language=hint or None,
        )

    def _text(self, language: str) -> str:
        from tertulia.connectors.sandbox.simulator import corpus

        draw = self.rng.random()
        if draw < HOSTILE_SHARE:
            return self.rng.choice(HOSTILE)
        if draw < HOSTILE_SHARE + CRISIS_SHARE:
            return corpus.crisis_message("food_poisoning", language, self.rng)
        weights = list(CATEGORY_WEIGHTS.values())
        category = self.rng.choices(list(CATEGORY_WEIGHTS), weights=weights)[0]
        return corpus.community_message(category, language, self.rng)

    def _answer(self, language: str) -> str:
        return self.rng.choice(BRAND_ANSWERS[language])

    @staticmethod
    def _brand_author(channel: Channel) -> RemoteAuthor:
        from tertulia.connectors.base import RemoteAuthor

        return RemoteAuthor(remote_id=channel.external_id, handle=channel.handle, display_name="Brand")


def _accumulate(values: Sequence[float]) -> list[float]:
    total, out = 0.0, []
    for value in values:
        total += value
        out.append(total)
    return out


Notify = Callable[["PageTiming"], None]


def ingest_page(channel: Channel, page: Page, number: int, tell: Notify | None = None) -> PageTiming:
    """What `poller.poll` does with one page: ingest it and move the cursor, in one transaction;
    then tell the reader (as the live event tells an open inbox page)."""
    from django.db import transaction

    from tertulia.inbox.ingest.pipeline import ingest
    from tertulia.inbox.models import ChannelCursor

    items = page.items()  # what the connector's fetch returned
    received = time.monotonic()
    with transaction.atomic():
        result = ingest(channel, items)
        ChannelCursor.objects.filter(channel=channel).update(cursor=str(number))
    committed = time.monotonic()
    newest = max(i.created_at for i in items).timestamp()
    timing = PageTiming(channel.pk, newest, received, committed, len(result.created), result.duplicates)
    if tell is not None:
        tell(timing)
    return timing


def run_worker(
    world: World, pages: Sequence[tuple[int, Page]], out: list[PageTiming], tell: Notify | None
) -> None:
    from django.db import connection

    try:
        for number, page in pages:
            out.append(ingest_page(world.channels[page.channel_index], page, number, tell))
    finally:
        connection.close()  # a worker thread's own connection


def feed(
    world: World, pages: Sequence[Page], workers: int, profile: str, tell: Notify | None
) -> list[PageTiming]:
    """Ingest every page; each channel belongs to one worker (the poller's lease), in page order."""
    numbered = list(enumerate(pages))
    if workers <= 1:
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        timings = [ingest_page(world.channels[page.channel_index], page, n, tell) for n, page in numbered]
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        return timings
    shares: list[list[PageTiming]] = [[] for _ in range(workers)]
    threads = [
        threading.Thread(
            target=run_worker,
            args=(world, [(n, p) for n, p in numbered if p.channel_index % workers == w], shares[w], tell),
        )
        for w in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted((t for share in shares for t in share), key=lambda t: t.received)


Committed = tuple[int, float]  # channel id, the page's newest item (POSIX): what the reader waits for
Seen = tuple[int, float, float, int]  # ... and time.monotonic() when a read returned it, reads it took


VISIBLE_WITHIN = 5.0  # seconds a committed page may take to show in the list before it counts as missed
POLL_SECONDS = 0.001


def watch(
    channel_ids: list[int], user_id: int, ready: Event, pages: Queue[Committed | None], out: Queue[list[Seen]]
) -> None:
    """The reader process (as the web process): told that a page committed, it reads the channel's
    newest open conversation through the inbox selector until that page's newest item is there."""
    setup_django()
    from django.db import connection

    from tertulia.core.models import Channel, User
    from tertulia.inbox.selectors import ConversationQuery, conversation_page

    channels = list(Channel.objects.filter(pk__in=channel_ids).select_related("brand").order_by("pk"))
    brand, user = channels[0].brand, User.objects.get(pk=user_id)
    seen: list[Seen] = []
    ready.set()
    while (told := pages.get()) is not None:
        channel_id, newest = told
        # Poll until the page shows up, at most VISIBLE_WITHIN seconds (a miss is reported, not awaited).
        deadline, reads = time.monotonic() + VISIBLE_WITHIN, 0
        query = ConversationQuery(channel_id=channel_id)
        while time.monotonic() < deadline:
            reads += 1
            items = conversation_page(brand, channels, user, query, limit=1).items
            if items and items[0].last_message_at.timestamp() >= newest:
                seen.append((channel_id, newest, time.monotonic(), reads))
                break
            time.sleep(POLL_SECONDS)
    connection.close()
    out.put(seen)


@dataclass(frozen=True)
class Reader:
    process: multiprocessing.process.BaseProcess
    pages: Queue[Committed | None]
    out: Queue[list[Seen]]

    def tell(self, timing: PageTiming) -> None:
        self.pages.put((timing.channel_id, timing.newest))

    def results(self) -> list[Seen]:
        self.pages.put(None)
        seen = self.out.get(timeout=600)
        self.process.join(30)
        return seen


def start_reader(world: World) -> Reader:
    context = multiprocessing.get_context(
        "spawn"
    )  # a fresh process, like the web server: no shared DB handles
    ready = context.Event()
    pages: Queue[Committed | None] = context.Queue()
    out: Queue[list[Seen]] = context.Queue()
    ids = [c.pk for c in world.channels]
    process = context.Process(target=watch, args=(ids, world.user.pk, ready, pages, out))
    process.start()
    if not ready.wait(120):
        raise SystemExit("the reader process did not start")
    return Reader(process, pages, out)


def visible_at(timings: Sequence[PageTiming], seen: Sequence[Seen]) -> list[float]:
    """For each page, when the reader first saw it (NaN: never)."""
    when = {(channel_id, newest): at for channel_id, newest, at, _reads in seen}
    return [when.get((t.channel_id, t.newest), math.nan) for t in timings]


def percentile(values: Sequence[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def p50_p99(values: Sequence[float]) -> str:
    return f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms"


def per_message(timings: Sequence[PageTiming], ends: Sequence[float]) -> list[float]:
    """Milliseconds from receipt to `end`, once per message created (a page's messages share both)."""
    return [(end - t.received) * 1000 for t, end in zip(timings, ends, strict=True) for _ in range(t.created)]


def warm_up(world: World, authors: Sequence[RemoteAuthor]) -> None:
    """Load the language models and Django's caches on a channel the figures do not count."""
    from tertulia.core.actions.channels import connect_channel
    from tertulia.core.actions.context import Actor
    from tertulia.nlp import analyse_many

    analyse_many(["warm up: load the language and sentiment models"])
    handle = f"@{world.channels[0].handle.lstrip('@')}_warm"
    spare = connect_channel(Actor.system("bench"), world.brand, "sandbox", handle)
    traffic = Traffic(World(world.brand, [spare], world.user), authors[:200], random.Random(0))
    for number, page in enumerate(traffic.pages(2 * PAGE_SIZE)):
        ingest_page(spare, page, number)


def database_line() -> str:
    """What the database runs with: the product's own settings, nothing tuned for the bench."""
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cursor.fetchone()[0]]
            mode = settings.DATABASES["default"]["OPTIONS"].get("transaction_mode", "DEFERRED")
            version = sqlite3.sqlite_version
            return f"SQLite {version}, journal_mode={journal}, synchronous={synchronous}, {mode} transactions"
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version}"


def report(world: World, timings: Sequence[PageTiming], seen: Sequence[Seen] | None, cpu: float) -> None:
    from django.conf import settings

    from tertulia.core.models import ContactHandle
    from tertulia.inbox.models import Conversation

    created = sum(t.created for t in timings)
    wall = max(t.committed for t in timings) - min(t.received for t in timings)
    pages_ms = [(t.committed - t.received) * 1000 for t in timings]
    conversations = Conversation.objects.filter(brand=world.brand).count()
    people = ContactHandle.objects.filter(organization=world.brand.organization).count()
    print(f"database: {database_line()}; live events: {settings.TERTULIA_LIVE_BROKER}")
    print(f"{len(world.channels)} channels, {len(timings)} pages of up to {PAGE_SIZE} items")
    print(
        f"stored {created:,} messages ({sum(t.duplicates for t in timings):,} duplicates skipped) "
        f"in {wall:.2f} s: {created / wall:,.0f} messages/s sustained"
    )
    per = cpu * 1e6 / created
    print(f"  ({conversations:,} conversations, {people:,} people; ingest CPU {per:,.0f} µs/message)")
    print(f"one page through the pipeline: {p50_p99(pages_ms)}")
    print(f"receipt to committed: {p50_p99(per_message(timings, [t.committed for t in timings]))}")
    if seen is not None:
        report_visible(timings, seen)


def report_visible(timings: Sequence[PageTiming], seen: Sequence[Seen]) -> None:
    visible = per_message(timings, visible_at(timings, seen))
    shown = [v for v in visible if not math.isnan(v)]
    print(f"receipt to visible in the inbox: {p50_p99(shown)}")
    reads = [r for *_, r in seen]
    print(
        f"  (reader: {sum(reads):,} reads for {len(seen):,} pages, at most {max(reads, default=0)} for one; "
        f"messages never seen: {len(visible) - len(shown)})"
    )


def main() -> None:
    args = options()
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    world = make_world(args.channels, args.seed)
    authors = make_authors(args.authors, rng)
    pages = Traffic(world, authors, rng).pages(args.messages)
    warm_up(world, authors)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"setup and {len(pages)} pages generated in {time.perf_counter() - started:.1f} s"
    )
    connection.close()  # the reader process must not inherit anything; reconnect after it starts
    reader = None if args.no_reader else start_reader(world)
    cpu = time.process_time()
    timings = feed(world, pages, args.workers, args.profile, reader.tell if reader else None)
    cpu = time.process_time() - cpu
    seen = reader.results() if reader else None
    report(world, timings, seen, cpu)


if __name__ == "__main__":
    main()
