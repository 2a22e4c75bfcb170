"""Inbox list, search and thread latency with a million stored messages.

Generates one brand's history straight into the tables (bulk inserts: executemany on SQLite,
COPY on PostgreSQL), then times `tertulia.inbox.selectors.conversation_page` and
`tertulia.inbox.selectors.thread` the way the inbox page calls them.

The history: a year of one brand with several channels; ~250,000 conversations (mentions of one
or two messages, DM threads going back and forth, comment threads under posts with a long tail
of busy ones), the sandbox simulator's corpus in Spanish and English, 150,000 people writing
(some often), our answers in between. Almost everything is closed; the last days' conversations
are open, pending or snoozed (a few thousand open), with some older open ones left behind;
most are assigned among five community managers; one in seven carries a tag or two. Labels
(intent, sentiment, urgency) come from the corpus category of each message, as the analysis
would mostly give. Rows go through the normal tables, so the full-text index is filled by the
production triggers (SQLite FTS5) or the GIN index (PostgreSQL) exactly as when the pipeline
stores messages.

The generated database is kept for later runs: on SQLite in `--cache DIR` (a data directory,
reused when it holds a complete run with the same parameters); on PostgreSQL in the database
DATABASE_URL names (reused the same way; use a fresh database the first time). PostgreSQL
tables are ANALYZEd after loading, as autovacuum would; SQLite gets nothing the product does
not do itself.

Usage:

    python bench/inbox_list.py --cache /tmp/tertulia-bench-list [--runs 60]
    DATABASE_URL=postgresql://... python bench/inbox_list.py

Prints one line per case (p50 / p95 / max in ms). No figure here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

    from tertulia.core.models import Brand, Channel, User
    from tertulia.inbox.models import Conversation
    from tertulia.inbox.selectors import ConversationQuery

BRAND = "Bench inbox list"
AGENTS = 5
TAGS = (
    "reembolso",
    "envío",
    "vip",
    "calidad",
    "factura",
    "tienda",
    "web",
    "sorteo",
    "prensa",
    "alergias",
    "devolución",
    "b2b",
)
TAG_SHARE = 0.14
CATEGORY_WEIGHTS = {
    "praise": 0.2,
    "question": 0.32,
    "complaint": 0.2,
    "spam": 0.08,
    "insult": 0.04,
    "off_topic": 0.16,
}
# corpus category -> (intent, sentiment, urgency) as tertulia.nlp mostly labels them
LABELS = {
    "praise": ("praise", "positive", 1),
    "question": ("question", "neutral", 1),
    "complaint": ("complaint", "negative", 2),
    "spam": ("spam", "neutral", 0),
    "insult": ("abuse", "negative", 1),
    "off_topic": ("other", "neutral", 0),
}
ANSWERS = {
    "es": ("¡Gracias! Te escribimos por privado", "Lo sentimos, ya lo estamos revisando", "¡Un abrazo!"),
    "en": ("Thanks! We'll DM you", "So sorry, we're looking into it", "Have a great day!"),
}
RARE_WORD = "zarzaparrilla"  # in a handful of messages: the rare-word search
RARE_COUNT = 25
SPAN = timedelta(days=365)
RECENT = timedelta(days=10)  # conversations active since then are still being worked
CHUNK = 20_000
POOL = 5_000  # distinct corpus messages per category and language


@dataclass
class Skeleton:
    """One conversation as generated, before ids: what its rows are made from."""

    channel: int
    kind: str
    language: str
    category: str
    contact: int  # index into the people
    times: list[float]  # POSIX seconds of its messages, increasing
    ours: list[bool]  # message i written by the brand
    texts: list[str]
    authors: list[int]
    categories: list[str]
    status: str = "closed"
    assignee: int | None = None  # index into the agents
    tags: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class World:
    brand: Brand
    channels: list[Channel]
    agents: list[User]


def options() -> argparse.Namespace:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=250_000)
    parser.add_argument("--people", type=int, default=150_000)
    parser.add_argument("--channels", type=int, default=6)
    parser.add_argument("--open", type=int, default=3_000, help="open conversations (about)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=60, help="timed runs per case (after 5 warm-up runs)")
    parser.add_argument("--cache", default="", help="SQLite: the data directory to generate into and reuse")
    return parser.parse_args()


def setup_django(cache: str) -> None:
    if not os.environ.get("DATABASE_URL"):
        data_dir = cache or tempfile.mkdtemp(prefix="tertulia-bench-list-")
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        os.environ["TERTULIA_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")
    import django

    django.setup()


def marker(args: argparse.Namespace) -> str:
    """The brand's name once its history is complete: the parameters it was made with."""
    return (
        f"{BRAND} {args.messages}/{args.conversations}/{args.people}/{args.channels}/{args.open}/{args.seed}"
    )


# ---------------------------------------------------------------- the history, in memory


def conversation_sizes(kinds: Sequence[str], total: int, rng: random.Random) -> list[int]:
    """Messages per conversation: mentions are short, DMs go back and forth, some threads are huge."""
    sizes = []
    for kind in kinds:
        if kind == "mention":
            sizes.append(1 + int(rng.expovariate(1.4)))
        elif kind == "direct":
            sizes.append(2 + int(rng.expovariate(1 / 3.5)))
        else:
            sizes.append(min(int(rng.paretovariate(1.15)) + int(rng.expovariate(1 / 2)), 3000))
    # Scale to the total, then nudge to it exactly (a message at a time, on random conversations).
    factor = total / sum(sizes)
    sizes = [max(1, round(size * factor)) for size in sizes]
    while (gap := total - sum(sizes)) != 0:
        for index in rng.sample(range(len(sizes)), min(abs(gap), len(sizes))):
            sizes[index] = max(1, sizes[index] + (1 if gap > 0 else -1))
    return sizes


def message_times(start: float, count: int, now: float, rng: random.Random) -> list[float]:
    """Times of a conversation's messages: minutes to days apart, never after now."""
    gaps = [min(rng.expovariate(1 / 7200), 5 * 86400) for _ in range(count - 1)]
    room = now - 60 - start
    scale = min(1.0, room / sum(gaps)) if gaps and sum(gaps) > 0 else 1.0
    times, moment = [start], start
    for gap in gaps:
        moment += gap * scale + 0.001  # strictly increasing
        times.append(moment)
    return times


class History:
    """The brand's year, as conversation skeletons in creation order."""

    def __init__(self, args: argparse.Namespace, now: datetime) -> None:
        from tertulia.connectors.sandbox.simulator import corpus

        self.args, self.corpus, self.rng = args, corpus, random.Random(args.seed)
        self.now = now.timestamp()
        rank_weights = [1 / (rank + 1) ** 0.7 for rank in range(args.people)]
        self.people_weights = list(_accumulate(rank_weights))
        self.text_cache: dict[tuple[str, str], list[str]] = {}

    def skeletons(self) -> list[Skeleton]:
        rng, args = self.rng, self.args
        kinds = rng.choices(("mention", "direct", "thread"), weights=(0.42, 0.25, 0.33), k=args.conversations)
        sizes = conversation_sizes(kinds, args.messages, rng)
        starts = sorted(self.now - rng.random() * SPAN.total_seconds() for _ in kinds)
        made = [
            self._conversation(kind, size, start)
            for kind, size, start in zip(kinds, sizes, starts, strict=True)
        ]
        self._work_state(made)
        self._rare_word(made)
        return made

    def _conversation(self, kind: str, size: int, start: float) -> Skeleton:
        rng = self.rng
        language = "es" if rng.random() < 0.55 else "en"
        category = rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]
        contact = self._person()
        ours = [False] + [rng.random() < (0.2 if kind == "mention" else 0.3) for _ in range(size - 1)]
        categories = [category if rng.random() < 0.8 else self._category() for _ in range(size)]
        authors = [contact if kind != "thread" or i == 0 else self._person() for i in range(size)]
        texts = [
            rng.choice(ANSWERS[language]) if mine else self._text(cat, language)
            for mine, cat in zip(ours, categories, strict=True)
        ]
        return Skeleton(
            channel=rng.randrange(self.args.channels),
            kind=kind,
            language=language,
            category=category,
            contact=contact,
            times=message_times(start, size, self.now, rng),
            ours=ours,
            texts=texts,
            authors=authors,
            categories=categories,
        )

    def _person(self) -> int:
        return self.rng.choices(range(self.args.people), cum_weights=self.people_weights)[0]

    def _category(self) -> str:
        return self.rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()))[0]

    def _text(self, category: str, language: str) -> str:
        # The corpus fills templates from small vocabularies: draw from a pool of its messages
        # (fast, and as varied as the corpus itself), with a rare hostile one.
        pool = self.text_cache.setdefault((category, language), [])
        if len(pool) < POOL:
            pool.append(self.corpus.community_message(category, language, self.rng))
            return pool[-1]
        if self.rng.random() < 0.001:
            return "<script>alert(1)</script> \u202eevil\u202c " + "🔥" * self.rng.randrange(1, 200)
        return self.rng.choice(pool)

    def _work_state(self, made: list[Skeleton]) -> None:
        """Statuses, owners and tags: recent conversations are still being worked, the rest closed."""
        rng, args = self.rng, self.args
        recent = [s for s in made if s.times[-1] > self.now - RECENT.total_seconds()]
        open_share = min(1.0, args.open * 0.9 / max(len(recent), 1))
        for skeleton in recent:
            draw = rng.random()
            if draw < open_share:
                skeleton.status = "open"
            elif draw < open_share * 1.5:
                skeleton.status = "pending"
            elif draw < open_share * 1.6:
                skeleton.status = "snoozed"
        for skeleton in rng.sample(made, min(args.open // 10, len(made))):
            skeleton.status = "open"  # left behind: old conversations nobody closed
        for skeleton in made:
            if rng.random() < (0.8 if skeleton.status != "closed" else 0.65):
                skeleton.assignee = rng.randrange(AGENTS)
            if rng.random() < TAG_SHARE:
                first = (
                    0 if skeleton.category == "complaint" and rng.random() < 0.5 else rng.randrange(len(TAGS))
                )
                skeleton.tags = sorted({first, rng.randrange(len(TAGS))} if rng.random() < 0.3 else {first})

    def _rare_word(self, made: list[Skeleton]) -> None:
        for skeleton in self.rng.sample(made, RARE_COUNT):
            skeleton.texts[0] = f"¿Tenéis refresco de {RARE_WORD}? Lo busco para la tienda de Vigo"
            skeleton.ours[0] = False


def _accumulate(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


# ---------------------------------------------------------------- rows


class Table:
    """Rows of one model written straight to its table: every column, defaults where not given."""

    def __init__(self, model: type[Model]) -> None:
        from django.db import connection

        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.defaults: dict[str, Any] = {}
        for f in self.fields:
            if f.has_default():
                self.defaults[f.attname] = f.get_db_prep_save(f.get_default(), connection)
            elif f.null or f.blank:
                self.defaults[f.attname] = None if f.null else ""
        self.index = {f.attname: n for n, f in enumerate(self.fields)}

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            values[f.attname] if f.attname in values else self.defaults[f.attname] for f in self.fields
        )

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        from django.db import connection

        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608  (names from this script; values are parameters)

    def next_id(self) -> int:
        from django.db.models import Max

        return (self.model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1


def db_time(moment: float) -> Any:
    """A POSIX time as the backend stores a DateTimeField (what Django's adapter gives)."""
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(moment, tz=UTC))


class Loader:
    """Writes a History into the tables, in chunks, with ids assigned here (so rows can refer to
    each other without reading them back)."""

    def __init__(self, world: World, history: History, made: list[Skeleton]) -> None:
        from tertulia.core.models import Contact, ContactHandle
        from tertulia.inbox.models import Conversation, Message, Tag

        self.world, self.history, self.made = world, history, made
        self.contacts, self.handles = Table(Contact), Table(ContactHandle)
        self.conversations, self.messages = Table(Conversation), Table(Message)
        self.tags, self.tagged = Table(Tag), Table(Conversation.tags.through)
        self.now = history.now

    def load(self, progress: Callable[[str], None]) -> None:
        from django.db import transaction

        with transaction.atomic():
            first_handle = self._people()
            tag_ids = self._tags()
        progress(f"people and tags: {self.history.args.people:,} people")
        conversation_ids = self._conversations(first_handle, tag_ids)
        progress(f"conversations: {len(self.made):,}")
        self._messages(conversation_ids, first_handle, progress)

    def _people(self) -> int:
        org = self.world.brand.organization_id
        first_contact, first_handle = self.contacts.next_id(), self.handles.next_id()
        stamp = db_time(self.now - SPAN.total_seconds())
        people = range(self.history.args.people)
        self.contacts.write(
            [
                self.contacts.row(
                    {"id": first_contact + n, "organization_id": org, "display_name": f"Persona {n}"}
                    | {"created_at": stamp, "updated_at": stamp}
                )
                for n in people
            ]
        )
        rng = random.Random(self.history.args.seed + 1)
        self.followers = [int(rng.lognormvariate(5.5, 1.6)) for _ in people]
        self.handles.write(
            [
                self.handles.row(
                    {
                        "id": first_handle + n,
                        "organization_id": org,
                        "contact_id": first_contact + n,
                        "network": "sandbox",
                        "handle": f"persona{n}",
                        "remote_id": f"p{n}",
                        "followers_count": self.followers[n],
                    }
                )
                for n in people
            ]
        )
        self.first_contact = first_contact
        return first_handle

    def _tags(self) -> list[int]:
        from tertulia.inbox.models import Tag

        org = self.world.brand.organization_id
        return [Tag.objects.get_or_create(organization_id=org, name=name)[0].pk for name in TAGS]

    def _conversations(self, first_handle: int, tag_ids: list[int]) -> list[int]:
        from django.db import transaction

        first = self.conversations.next_id()
        ids = list(range(first, first + len(self.made)))
        tagged_id = self.tagged.next_id()
        for start in range(0, len(self.made), CHUNK):
            rows, links = [], []
            for n in range(start, min(start + CHUNK, len(self.made))):
                rows.append(self.conversations.row(self._conversation_values(self.made[n], ids[n])))
                for tag in self.made[n].tags:
                    links.append(
                        self.tagged.row({"id": tagged_id, "conversation_id": ids[n], "tag_id": tag_ids[tag]})
                    )
                    tagged_id += 1
            with transaction.atomic():
                self.conversations.write(rows)
                self.tagged.write(links)
        return ids

    def _conversation_values(self, s: Skeleton, pk: int) -> dict[str, Any]:
        inbound = [i for i, mine in enumerate(s.ours) if not mine]
        outbound = [i for i, mine in enumerate(s.ours) if mine]
        last_in = inbound[-1]
        intent, sentiment, urgency = LABELS[s.categories[last_in]]
        waiting = s.status == "open" and not s.ours[-1]
        awaiting = (
            next(s.times[i] for i in inbound if not outbound or s.times[i] > s.times[outbound[-1]])
            if waiting
            else None
        )
        due = awaiting + (3600 if intent == "complaint" else 86400) if awaiting is not None else None
        values: dict[str, Any] = {
            "id": pk,
            "organization_id": self.world.brand.organization_id,
            "brand_id": self.world.brand.pk,
            "channel_id": self.world.channels[s.channel].pk,
            "key": f"c{pk}",
            "kind": s.kind,
            "contact_id": self.first_contact + s.contact,
            "preview": s.texts[last_in][:280],
            "status": s.status,
            "snoozed_until": db_time(self.now + 86400 * 2) if s.status == "snoozed" else None,
            "assignee_id": self.world.agents[s.assignee].pk if s.assignee is not None else None,
            "intent": intent,
            "sentiment": sentiment,
            "urgency": urgency,
            "language": s.language,
            "message_count": len(s.times),
            "last_message_at": db_time(s.times[-1]),
            "last_inbound_at": db_time(s.times[last_in]),
            "last_outbound_at": db_time(s.times[outbound[-1]]) if outbound else None,
            "awaiting_since": db_time(awaiting) if awaiting is not None else None,
            "first_response_at": db_time(s.times[outbound[0]]) if outbound else None,
            "due_at": db_time(due) if due is not None else None,
            "sla_breached_at": db_time(due) if due is not None and due < self.now else None,
            "created_at": db_time(s.times[0]),
            "updated_at": db_time(s.times[-1]),
        }
        return values

    def _messages(
        self, conversation_ids: list[int], first_handle: int, progress: Callable[[str], None]
    ) -> None:
        from django.db import transaction

        # Ids follow arrival, as they do when the pipeline stores messages (search lists newest ids first).
        order = sorted((moment, n, i) for n, s in enumerate(self.made) for i, moment in enumerate(s.times))
        first = self.messages.next_id()
        started = time.perf_counter()
        for start in range(0, len(order), CHUNK):
            chunk = order[start : start + CHUNK]
            rows = [
                self.messages.row(
                    self._message_values(first + start + k, conversation_ids[n], n, i, first_handle)
                )
                for k, (_moment, n, i) in enumerate(chunk)
            ]
            with transaction.atomic():
                self.messages.write(rows)
            if (start // CHUNK) % 10 == 9:
                done = start + len(chunk)
                progress(f"messages: {done:,} ({done / (time.perf_counter() - started):,.0f}/s)")

    def _message_values(
        self, pk: int, conversation: int, n: int, i: int, first_handle: int
    ) -> dict[str, Any]:
        s = self.made[n]
        mine = s.ours[i]
        sent = db_time(s.times[i])
        intent, sentiment, urgency = ("other", "neutral", 1) if mine else LABELS[s.categories[i]]
        author = s.authors[i]
        channel = self.world.channels[s.channel]
        values: dict[str, Any] = {
            "id": pk,
            "organization_id": self.world.brand.organization_id,
            "brand_id": self.world.brand.pk,
            "channel_id": channel.pk,
            "conversation_id": conversation,
            "remote_id": f"r{pk}",
            "direction": "out" if mine else "in",
            "kind": {"mention": "mention", "direct": "direct_message", "thread": "reply"}[s.kind],
            "author_id": None if mine else first_handle + author,
            "author_remote_id": channel.external_id if mine else f"p{author}",
            "author_handle": channel.handle if mine else f"persona{author}",
            "author_name": channel.display_name if mine else f"Persona {author}",
            "author_followers": 0 if mine else self.followers[author],
            "text": s.texts[i],
            "sent_at": sent,
            "received_at": sent,
            "language": s.language,
            "sentiment": sentiment,
            "sentiment_score": {"positive": 0.8, "negative": -0.8}.get(sentiment, 0.0),
            "intent": intent,
            "urgency": urgency,
            "delivery": "sent" if mine else "received",
        }
        return values


# ---------------------------------------------------------------- the brand


def existing_world(name: str) -> World | None:
    from tertulia.core.models import Brand, Channel, User

    brand = Brand.objects.filter(name=name).first()
    if brand is None:
        return None
    agents = list(User.objects.filter(email__startswith=f"bench-agent-{brand.pk}-").order_by("email"))
    return World(brand, list(Channel.objects.filter(brand=brand).order_by("pk")), agents)


def new_world(args: argparse.Namespace) -> World:
    from tertulia.core.actions.brands import create_brand
    from tertulia.core.actions.channels import connect_channel
    from tertulia.core.actions.context import Actor
    from tertulia.core.actions.organizations import add_member, create_organization
    from tertulia.core.models import Brand, Role, User

    if Brand.objects.filter(name__startswith=BRAND).exists():
        raise SystemExit(
            "this database holds an incomplete or different bench history: use a fresh database "
            "(PostgreSQL) or another --cache directory (SQLite)"
        )
    actor = Actor.system("bench")
    stamp = time.time_ns() % 10**9
    owner = User.objects.create_user(email=f"bench-owner-{stamp}@example.com", password=None)
    brand = create_brand(actor, create_organization(actor, f"Bench list {stamp}", owner=owner), name=BRAND)
    agents = []
    for n in range(AGENTS):
        agent = User.objects.create_user(email=f"bench-agent-{brand.pk}-{n}@example.com", password=None)
        add_member(actor, brand.organization, agent, Role.COMMUNITY_MANAGER)
        agents.append(agent)
    channels = [
        connect_channel(actor, brand, "sandbox", f"@benchlist{stamp}_{n}", f"Bench {n}")
        for n in range(args.channels)
    ]
    return World(brand, channels, agents)


def prepare(args: argparse.Namespace) -> World:
    """The complete history: reused when there, generated (minutes) when not."""
    from django.db import connection

    world = existing_world(marker(args))
    if world is not None:
        print(f"reusing the generated history ({marker(args)})")
        return world
    started = time.perf_counter()
    world = new_world(args)
    history = History(args, datetime.now(tz=UTC))
    made = history.skeletons()
    print(f"generated {len(made):,} conversations in memory in {time.perf_counter() - started:.0f} s")
    Loader(world, history, made).load(lambda line: print(f"  {line} ({time.perf_counter() - started:.0f} s)"))
    if connection.vendor == "postgresql":
        reset_sequences()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a large load
    world.brand.name = marker(args)
    world.brand.save(update_fields=["name"])
    print(f"history stored in {time.perf_counter() - started:.0f} s")
    return world


def reset_sequences() -> None:
    """Rows were given ids here: move PostgreSQL's sequences past them."""
    from django.core.management.color import no_style
    from django.db import connection

    from tertulia.core.models import Contact, ContactHandle
    from tertulia.inbox.models import Conversation, Message, Tag

    models: list[type[Model]] = [
        Contact,
        ContactHandle,
        Conversation,
        Message,
        Tag,
        Conversation.tags.through,
    ]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


# ---------------------------------------------------------------- timing


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[], object]


def timed(case: Case, runs: int) -> list[float]:
    for _ in range(5):
        case.run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        case.run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def page_case(
    world: World, user: User, name: str, query: ConversationQuery, cursor: str | None = None
) -> Case:
    from tertulia.inbox.selectors import conversation_page

    def run() -> object:
        return conversation_page(world.brand, world.channels, user, query, cursor=cursor)

    return Case(name, run)


def cases(world: World) -> list[Case]:
    from tertulia.inbox.models import Conversation, Status
    from tertulia.inbox.selectors import ConversationQuery, conversation_page, thread

    mine = max(
        world.agents, key=lambda a: Conversation.objects.filter(assignee=a, status=Status.OPEN).count()
    )
    owner = world.agents[0]
    first = conversation_page(world.brand, world.channels, owner, ConversationQuery())
    every: tuple[str, ...] = ()
    listed = [
        page_case(world, owner, "open list (default)", ConversationQuery()),
        page_case(world, mine, "mine (open)", ConversationQuery(assignee="me")),
        page_case(
            world,
            owner,
            "complaint + negative (open)",
            ConversationQuery(intent="complaint", sentiment="negative"),
        ),
        page_case(world, owner, "tag reembolso (open)", ConversationQuery(tag="reembolso")),
        page_case(
            world, owner, "tag reembolso (any status)", ConversationQuery(statuses=every, tag="reembolso")
        ),
        page_case(world, owner, "page 2 of the open list", ConversationQuery(), cursor=first.next_cursor),
        page_case(world, owner, "all statuses, page 1", ConversationQuery(statuses=every)),
    ]
    for label, words in (("common word", "pedido"), ("rare word", RARE_WORD), ("two words", "botella rota")):
        listed.append(page_case(world, owner, f"search {label} '{words}' (open)", ConversationQuery(q=words)))
        listed.append(
            page_case(
                world,
                owner,
                f"search {label} '{words}' (any status)",
                ConversationQuery(statuses=every, q=words),
            )
        )
    return [*listed, *thread_cases(world, thread)]


def thread_cases(world: World, thread: Callable[[Conversation], object]) -> list[Case]:
    from tertulia.inbox.models import Conversation

    rng = random.Random(7)
    conversations = Conversation.objects.filter(brand=world.brand)
    top = conversations.order_by("-id").values_list("id", flat=True).first() or 0
    picked = list(conversations.filter(id__in=[rng.randrange(top // 2, top + 1) for _ in range(200)]))
    biggest = conversations.order_by("-message_count").first()
    rotation = iter(picked * 1000)
    both = [Case("thread of a random conversation", lambda: thread(next(rotation)))]
    if biggest is not None:
        both.append(
            Case(
                f"thread of the busiest ({biggest.message_count:,} messages; newest 500)",
                lambda: thread(biggest),
            )
        )
    return both


def percentile(values: Sequence[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    args = options()
    setup_django(args.cache)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    world = prepare(args)
    connection.close()  # measure on a fresh connection, with only the product's own settings
    from tertulia.inbox.models import Conversation, Message

    messages = Message.objects.filter(brand=world.brand).count()
    opened = Conversation.objects.filter(brand=world.brand, status="open").count()
    total = Conversation.objects.filter(brand=world.brand).count()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor}; {messages:,} messages, {total:,} conversations ({opened:,} open), "
        f"{len(world.channels)} channels; {args.runs} runs per case"
    )
    for case in cases(world):
        times = timed(case, args.runs)
        print(
            f"{case.name:58s} p50 {percentile(times, 50):7.1f} ms  p95 {percentile(times, 95):7.1f} ms  "
            f"max {max(times):7.1f} ms"
        )
    connection.close()


if __name__ == "__main__":
    main()
