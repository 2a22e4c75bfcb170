"""Analytics dashboards and reports for a brand with a year of history.

Issue 9 asks for dashboard and report generation under one second at p95 for a brand with one year of
history: 1,000,000 messages, 20,000 posts and daily metrics for 50 channels. The script builds that
brand straight into the tables, then times:

- the rollups (tertulia.analytics.rollup.roll_up): the whole year in one call and month by month (the
  one-off backfill), and the periodic job's work (the last 3 days);
- the figures the dashboards read (tertulia.analytics.figures.figures) and objectives' progress
  (tertulia.analytics.objectives.progress), called directly;
- each dashboard page and CSV export as a person opens it (django.test.Client, signed in as the
  organization's owner, the brand chosen), for 30 and 365 days, every channel and one channel; skipped
  with a message while the analytics URL names do not exist;
- report generation, HTML and PDF, for 7 and 30 days, when tertulia.reports offers it.

The brand's year: the inbox history of bench/inbox_list.py (imported, not copied) spread over 50 channels,
with outbound messages credited to the conversation's assignee and a first-response target per conversation
(met, breached, stopped or still running, from the history's own answer times); 20,000 posts published over
the year, one channel each (Post, Variant, a sent DeliveryTarget and its PostMetrics; impressions on half the
channels); each channel's follower count per day (ChannelDay.followers, as the collector stores it); five
listening queries (two of the brand, three of competitors) with 200,000 mentions and their matches; one
objective per KPI for this quarter and one for the year (14).

The generated database is kept for later runs, as bench/inbox_list.py does: on SQLite in `--cache DIR`, on
PostgreSQL in the database DATABASE_URL names (use a fresh database the first time).

Usage:

    python bench/analytics_dashboards.py --cache /tmp/tertulia-bench-analytics [--runs 20]
    DATABASE_URL=postgresql://... python bench/analytics_dashboards.py

Prints one line per case (p50 / p95 / max in ms). No figure here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inbox_list  # the sibling bench: its generator and timing helpers

if TYPE_CHECKING:
    from tertulia.core.models import Brand, User

World = inbox_list.World
Table = inbox_list.Table
db_time = inbox_list.db_time

QUERIES = (  # name, group, share of the mentions
    ("Marca", "brand", 0.30),
    ("Marca y producto", "brand", 0.12),
    ("Competidor A", "competitor", 0.28),
    ("Competidor B", "competitor", 0.20),
    ("Competidor C", "competitor", 0.10),
)
SECOND_MATCH = 0.1  # mentions a second query matches too
MENTION_TEXTS = {
    "positive": ("Me encanta la nueva botella", "Great service today, thanks!", "¡Qué buen producto!"),
    "neutral": ("¿Alguien lo ha probado?", "Saw their ad on the metro", "Hoy abren tienda en Vigo"),
    "negative": ("Otra vez el pedido tarde", "Worst support ever", "La botella llegó rota"),
}
SENTIMENT_WEIGHTS = (0.35, 0.45, 0.2)
PAGES = (  # URL name, what it is
    ("web:analytics", "overview"),
    ("web:analytics-publishing", "publishing"),
    ("web:analytics-inbox", "inbox"),
    ("web:analytics-listening", "listening"),
    ("web:analytics-audience", "audience"),
)
CSV_FALLBACK = (
    "channels",
    "days",
    "posts",
    "inbox",
    "people",
    "listening",
    "queries",
    "audience",
    "objectives",
)


def options() -> argparse.Namespace:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=250_000)
    parser.add_argument("--people", type=int, default=150_000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--open", type=int, default=3_000, help="open conversations (about)")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--mentions", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per case (after warm-up runs)")
    parser.add_argument("--cache", default="", help="SQLite: the data directory to generate into and reuse")
    return parser.parse_args()


def marker(args: argparse.Namespace) -> str:
    """The brand's name once the analytics history is complete too."""
    return f"{inbox_list.marker(args)} + analytics {args.posts}/{args.mentions}"


def year_of(brand: Brand) -> tuple[date, date]:
    from tertulia.analytics.rollup import local_day

    today = local_day(brand, datetime.now(tz=UTC))
    return today - timedelta(days=364), today


# ---------------------------------------------------------------- the analytics history


class Extras:
    """What the analytics need beyond the inbox: answers credited, response targets, posts and their
    metrics, follower counts, listening, objectives."""

    def __init__(self, world: World, args: argparse.Namespace) -> None:
        from tertulia.core.models import Membership, Role

        self.world, self.args = world, args
        self.rng = random.Random(args.seed + 9)
        self.org = world.brand.organization_id
        self.owner = (
            Membership.objects.filter(organization_id=self.org, role=Role.OWNER)
            .select_related("user")
            .get()
            .user
        )
        self.now = time.time()
        self.first_day, self.last_day = year_of(world.brand)

    def build(self, progress: Callable[[str], None]) -> None:
        self.clear()
        self.credit_answers()
        progress("outbound messages credited to the assignees")
        progress(f"response targets: {self.response_targets():,}")
        progress(f"posts: {self.posts():,}")
        progress(f"channel days with followers: {self.followers():,}")
        progress(f"mentions: {self.mentions():,}")
        self.objectives()

    def clear(self) -> None:
        """An interrupted earlier build of these rows: start them again."""
        from tertulia.analytics.models import BrandRollup, ChannelDay, PersonDay, QueryDay
        from tertulia.core.models.brand import Objective
        from tertulia.inbox.models import ResponseTarget
        from tertulia.listening.models import ListeningQuery, Mention
        from tertulia.publishing.models import Post

        brand = self.world.brand
        for model in (ResponseTarget, ChannelDay, PersonDay, QueryDay, BrandRollup, Objective, Post):
            model._default_manager.filter(brand=brand).delete()
        ListeningQuery.objects.filter(brand=brand).delete()
        Mention.objects.filter(organization_id=self.org).delete()

    def credit_answers(self) -> None:
        """Our answers were written by the conversation's assignee (the per-person figures need a writer)."""
        from django.db import connection, transaction

        from tertulia.inbox.models import Conversation, Message

        ops = connection.ops
        messages, conversations = (
            ops.quote_name(Message._meta.db_table),
            ops.quote_name(Conversation._meta.db_table),
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {messages} SET sent_by_id = (SELECT c.assignee_id FROM {conversations} c "  # noqa: S608  (names from the models)
                f"WHERE c.id = {messages}.conversation_id) WHERE brand_id = %s AND direction = %s",
                [self.world.brand.pk, "out"],
            )

    def response_targets(self) -> int:
        """One first-response clock per conversation, from the history's own first answer."""
        from django.db import transaction

        from tertulia.inbox.models import Conversation, ResponseTarget

        table = Table(ResponseTarget)
        pk = table.next_id()
        rows = []
        for cid, created, answered, intent, status, last in (
            Conversation.objects.filter(brand=self.world.brand)
            .order_by("id")
            .values_list("id", "created_at", "first_response_at", "intent", "status", "last_message_at")
        ):
            minutes = 60 if intent == "complaint" else 24 * 60
            due = created + timedelta(minutes=minutes)
            if answered is not None:
                outcome, ended = ("met" if answered <= due else "breached"), answered
            elif status == "closed" or intent == "spam":
                outcome, ended = "stopped", last
            else:
                outcome, ended = "running", None
            rows.append(
                table.row(
                    {
                        "id": pk,
                        "conversation_id": cid,
                        "brand_id": self.world.brand.pk,
                        "stage": "first",
                        "started_at": db_time(created.timestamp()),
                        "due_at": db_time(due.timestamp()),
                        "ended_at": db_time(ended.timestamp()) if ended is not None else None,
                        "outcome": outcome,
                    }
                )
            )
            pk += 1
        for start in range(0, len(rows), inbox_list.CHUNK):
            with transaction.atomic():
                table.write(rows[start : start + inbox_list.CHUNK])
        return len(rows)

    def posts(self) -> int:
        """Posts published over the year, one channel each, with the latest metrics collected for them."""
        from django.db import transaction

        from tertulia.analytics.models import PostMetrics
        from tertulia.publishing.models import DeliveryTarget, Post, Variant

        rng, world = self.rng, self.world
        posts, variants, targets, metrics = (
            Table(Post),
            Table(Variant),
            Table(DeliveryTarget),
            Table(PostMetrics),
        )
        first = {name: table.next_id() for name, table in (("p", posts), ("v", variants), ("t", targets))}
        first["m"] = metrics.next_id()
        span = inbox_list.SPAN.total_seconds()
        sizes = [rng.lognormvariate(0, 1) for _ in world.channels]  # some channels are busier
        times = sorted(self.now - rng.random() * span for _ in range(self.args.posts))
        brand, org = world.brand.pk, self.org
        for start in range(0, len(times), inbox_list.CHUNK):
            rows: dict[str, list[tuple[Any, ...]]] = {"p": [], "v": [], "t": [], "m": []}
            for n in range(start, min(start + inbox_list.CHUNK, len(times))):
                channel = rng.choices(range(len(world.channels)), weights=sizes)[0]
                channel_id = world.channels[channel].pk
                sent, stamp = times[n], db_time(times[n])
                created = db_time(sent - rng.uniform(600, 7 * 86400))
                pid, vid, tid = first["p"] + n, first["v"] + n, first["t"] + n
                rows["p"].append(
                    posts.row(
                        {
                            "id": pid,
                            "organization_id": org,
                            "brand_id": brand,
                            "created_by_id": self.owner.pk,
                            "title": f"Publicación {n}",
                            "text": f"Novedades de la semana {n % 52} #bench",
                            "state": "published",
                            "scheduled_at": stamp,
                            "created_at": created,
                            "updated_at": stamp,
                        }
                    )
                )
                rows["v"].append(variants.row({"id": vid, "post_id": pid, "channel_id": channel_id}))
                rows["t"].append(
                    targets.row(
                        {
                            "id": tid,
                            "organization_id": org,
                            "brand_id": brand,
                            "post_id": pid,
                            "variant_id": vid,
                            "channel_id": channel_id,
                            "state": "sent",
                            "due_at": stamp,
                            "next_attempt_at": stamp,
                            "idempotency_key": f"bench-analytics-{tid}",
                            "attempts": 1,
                            "first_attempt_at": stamp,
                            "remote_id": f"post{tid}",
                            "url": f"https://sandbox.invalid/post{tid}",
                            "sent_at": stamp,
                            "updated_at": stamp,
                        }
                    )
                )
                reach = sizes[channel] * rng.lognormvariate(3, 1.2)
                likes = int(reach)
                rows["m"].append(
                    metrics.row(
                        {
                            "id": first["m"] + n,
                            "target_id": tid,
                            "organization_id": org,
                            "brand_id": brand,
                            "channel_id": channel_id,
                            "sent_at": stamp,
                            "likes": likes,
                            "reposts": int(likes * rng.uniform(0, 0.3)),
                            "replies": int(likes * rng.uniform(0, 0.2)),
                            "quotes": int(likes * rng.uniform(0, 0.05)),
                            "impressions": int(likes * rng.uniform(20, 80)) if channel % 2 == 0 else None,
                            "collected_at": db_time(min(sent + 3 * 86400, self.now)),
                        }
                    )
                )
            with transaction.atomic():
                posts.write(rows["p"])
                variants.write(rows["v"])
                targets.write(rows["t"])
                metrics.write(rows["m"])
        return len(times)

    def followers(self) -> int:
        """Each channel's followers on each day of the year, as the collector stores them."""
        from django.db import connection, transaction

        from tertulia.analytics.models import ChannelDay

        rng, table = self.rng, Table(ChannelDay)
        pk = table.next_id()
        days = [self.first_day + timedelta(days=n) for n in range((self.last_day - self.first_day).days + 1)]
        rows = []
        for channel in self.world.channels:
            count = rng.lognormvariate(8.5, 1.5)
            trend = rng.uniform(-0.0003, 0.002)
            for day in days:
                count = max(0.0, count * (1 + trend + rng.gauss(0, 0.001)))
                if rng.random() < 0.02:
                    continue  # a day the network could not be asked
                rows.append(
                    table.row(
                        {
                            "id": pk,
                            "organization_id": self.org,
                            "brand_id": self.world.brand.pk,
                            "channel_id": channel.pk,
                            "day": connection.ops.adapt_datefield_value(day),
                            "followers": int(count),
                            "following": rng.randrange(50, 500),
                        }
                    )
                )
                pk += 1
        with transaction.atomic():
            table.write(rows)
        return len(rows)

    def mentions(self) -> int:
        """Listening: queries of the brand and its competitors, and a year of mentions they matched."""
        from django.db import transaction

        from tertulia.listening.models import ListeningQuery, Mention, QueryMatch

        rng, org = self.rng, self.org
        queries = [
            ListeningQuery.objects.create(
                organization_id=org, brand=self.world.brand, name=name, group=group, text=name.lower()
            ).pk
            for name, group, _share in QUERIES
        ]
        shares = [share for _name, _group, share in QUERIES]
        mentions, matches = Table(Mention), Table(QueryMatch)
        mention_id, match_id = mentions.next_id(), matches.next_id()
        span = inbox_list.SPAN.total_seconds()
        times = sorted(self.now - rng.random() * span for _ in range(self.args.mentions))
        sentiments = list(MENTION_TEXTS)
        for start in range(0, len(times), inbox_list.CHUNK):
            rows, links = [], []
            for moment in times[start : start + inbox_list.CHUNK]:
                sentiment = rng.choices(sentiments, weights=SENTIMENT_WEIGHTS)[0]
                stamp = db_time(moment)
                author = int(rng.paretovariate(1.2))
                rows.append(
                    mentions.row(
                        {
                            "id": mention_id,
                            "organization_id": org,
                            "network": "bluesky",
                            "remote_id": f"at://bench/{mention_id}",
                            "author_handle": f"autor{author}.bsky.social",
                            "author_name": f"Autor {author}",
                            "author_followers": int(rng.lognormvariate(5, 1.8)),
                            "text": rng.choice(MENTION_TEXTS[sentiment]),
                            "published_at": stamp,
                            "received_at": stamp,
                            "language": "es",
                            "sentiment": sentiment,
                            "sentiment_score": {"positive": 0.7, "negative": -0.7}.get(sentiment, 0.0),
                        }
                    )
                )
                matched = {rng.choices(queries, weights=shares)[0]}
                if rng.random() < SECOND_MATCH:
                    matched.add(rng.choice(queries))
                for query in sorted(matched):
                    links.append(
                        matches.row(
                            {
                                "id": match_id,
                                "query_id": query,
                                "mention_id": mention_id,
                                "published_at": stamp,
                                "sentiment": sentiment,
                                "matched_at": stamp,
                            }
                        )
                    )
                    match_id += 1
                mention_id += 1
            with transaction.atomic():
                mentions.write(rows)
                matches.write(links)
        return len(times)

    def objectives(self) -> None:
        from tertulia.core.models.brand import Direction, Kpi, Objective

        today = self.last_day
        quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        wanted = (
            (Kpi.RESPONSE_TIME, Direction.AT_MOST, 60),
            (Kpi.SLA_MET, Direction.AT_LEAST, 90),
            (Kpi.POSITIVE_SHARE, Direction.AT_LEAST, 40),
            (Kpi.ENGAGEMENT_RATE, Direction.AT_LEAST, 2),
            (Kpi.AUDIENCE_GROWTH, Direction.AT_LEAST, 5),
            (Kpi.SHARE_OF_VOICE, Direction.AT_LEAST, 45),
            (Kpi.POSTS_PUBLISHED, Direction.AT_LEAST, 5000),
        )
        for kpi, direction, target in wanted:
            for start, end in ((quarter, quarter + timedelta(days=91)), (self.first_day, self.last_day)):
                Objective.objects.create(
                    brand=self.world.brand,
                    title=f"{kpi.label} {start:%Y-%m}",
                    kpi=kpi,
                    direction=direction,
                    target=target,
                    period_start=start,
                    period_end=end,
                )


def reset_sequences() -> None:
    """Rows were given ids here: move PostgreSQL's sequences past them."""
    from django.core.management.color import no_style
    from django.db import connection
    from django.db.models import Model

    from tertulia.analytics.models import ChannelDay, PostMetrics
    from tertulia.inbox.models import ResponseTarget
    from tertulia.listening.models import Mention, QueryMatch
    from tertulia.publishing.models import DeliveryTarget, Post, Variant

    models: list[type[Model]] = [ResponseTarget, Post, Variant, DeliveryTarget, PostMetrics, ChannelDay]
    models += [Mention, QueryMatch]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def prepare(args: argparse.Namespace) -> World:
    """The brand's complete year: reused when there, generated (minutes) when not."""
    from django.db import connection

    world = inbox_list.existing_world(marker(args))
    if world is not None:
        print(f"reusing the generated history ({marker(args)})")
        return world
    world = inbox_list.prepare(args)
    started = time.perf_counter()
    Extras(world, args).build(lambda line: print(f"  {line} ({time.perf_counter() - started:.0f} s)"))
    if connection.vendor == "postgresql":
        reset_sequences()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    world.brand.name = marker(args)
    world.brand.save(update_fields=["name"])
    print(f"analytics history stored in {time.perf_counter() - started:.0f} s")
    return world


# ---------------------------------------------------------------- timing


def line(name: str, times: Sequence[float]) -> None:
    if len(times) < 2:
        print(f"{name:62s} {times[0]:9.1f} ms")
        return
    p50, p95 = inbox_list.percentile(times, 50), inbox_list.percentile(times, 95)
    print(f"{name:62s} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  max {max(times):8.1f} ms")


def clock(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def time_rollups(world: World) -> None:
    from tertulia.analytics.rollup import RECENT_DAYS, roll_up

    brand = world.brand
    first, last = year_of(brand)
    line(
        f"rollup, the whole year in one call ({first} to {last})",
        [clock(lambda: roll_up(brand, first, last))],
    )
    months, spans = [], []
    start = first
    while start <= last:
        end = min((start.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1), last)
        spans.append((start, end))
        start = end + timedelta(days=1)
    for a, b in spans:
        months.append(clock(partial(roll_up, brand, a, b)))
    print(
        f"{f'rollup, month by month ({len(spans)} calls), summed':62s} {sum(months):9.1f} ms  "
        f"(slowest month {max(months):.1f} ms)"
    )
    recent = last - timedelta(days=RECENT_DAYS - 1)
    line(
        f"rollup, the periodic job (last {RECENT_DAYS} days)",
        [clock(lambda: roll_up(brand, recent, last)) for _ in range(10)],
    )


def timed(name: str, run: Callable[[], object], runs: int, warm: int = 3) -> None:
    for _ in range(warm):
        run()
    line(name, [clock(run) for _ in range(runs)])


def time_figures(world: World, runs: int) -> None:
    from tertulia.analytics.figures import figures
    from tertulia.analytics.objectives import progress
    from tertulia.analytics.periods import last_days
    from tertulia.core.models.brand import Objective

    brand, today = world.brand, year_of(world.brand)[1]
    one = [world.channels[0].pk]
    for days in (30, 365):
        period = last_days(days, today)
        timed(f"figures(), {days} days, all channels", partial(figures, brand, period), runs)
        timed(f"figures(), {days} days, one channel", partial(figures, brand, period, one), runs)
    objectives = list(Objective.objects.filter(brand=brand))
    timed(
        f"objectives progress() ({len(objectives)} objectives, 2 periods)",
        lambda: progress(objectives, today),
        runs,
    )


def signed_in_client(world: World) -> Any:
    from django.test import Client

    from tertulia.core.models import Membership, Role
    from tertulia.web.tenant import SESSION_BRAND, SESSION_ORG

    owner: User = (
        Membership.objects.filter(organization_id=world.brand.organization_id, role=Role.OWNER).get().user
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    session = client.session
    session[SESSION_ORG] = world.brand.organization_id
    session[SESSION_BRAND] = world.brand.pk
    session.save()
    return client


def url_of(name: str, **kwargs: str) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def csv_tables() -> list[str]:
    """The tables the CSV export offers (tertulia.analytics.dashboards.FIG_TABLES and the objectives)."""
    try:
        from tertulia.analytics.dashboards import FIG_TABLES
    except ImportError:
        return list(CSV_FALLBACK)
    return [*FIG_TABLES, "objectives"]


def time_pages(world: World, runs: int) -> None:
    client = signed_in_client(world)
    pages = [(name, label, url_of(name)) for name, label in PAGES]
    missing = [name for name, _label, url in pages if url is None]
    if missing:
        print(f"skipped: the URL names {', '.join(missing)} do not exist yet")
    one = str(world.channels[0].pk)
    queries = [
        ("30 days, all channels", {"days": "30"}),
        ("30 days, one channel", {"days": "30", "channel": one}),
        ("365 days, all channels", {"days": "365"}),
        ("365 days, one channel", {"days": "365", "channel": one}),
    ]
    wanted = [(label, url) for _name, label, url in pages if url is not None]
    if (
        url_of("web:analytics-csv", table="channels") is None
        and url_of("web:analytics-csv", table="x") is None
    ):
        print("skipped: the URL name web:analytics-csv does not exist yet")
    else:
        for table in csv_tables():
            url = url_of("web:analytics-csv", table=table)
            if url is not None:
                wanted.append((f"CSV {table}", url))
    for label, url in wanted:
        for period, params in queries:
            status, body = fetch(client, url, params)
            if status != 200:
                print(f"skipped: {label} ({url}, {period}) answered {status}")
                break
            timed(
                f"GET {label}, {period} ({len(body) // 1024} KiB)",
                partial(fetch, client, url, params),
                runs,
                warm=2,
            )


def fetch(client: Any, url: str, params: dict[str, str]) -> tuple[int, bytes]:
    """A GET read to its last byte (CSV exports stream)."""
    response = client.get(url, params)
    if response.streaming:
        return response.status_code, b"".join(response.streaming_content)
    return response.status_code, response.content


def time_reports(world: World, runs: int) -> None:
    """A report as the scheduled job makes one (tertulia.reports.delivery.make_document): the figures
    and the HTML, then the PDF of that HTML."""
    try:
        from tertulia.reports.build import build_report
        from tertulia.reports.render import PdfUnavailable, render_html, render_pdf
    except ImportError as missing:
        print(f"skipped: report generation (tertulia.reports is not there yet: {missing})")
        return
    from tertulia.analytics.periods import last_days

    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # a line per page laid out, otherwise
    today = year_of(world.brand)[1]
    some = max(3, runs // 2)
    for days in (7, 30):
        period = last_days(days, today)

        def html(period: Any = period) -> str:
            return render_html(build_report(world.brand, period, (), None, "es"))

        timed(f"report {days} days: figures and HTML (all sections, es)", html, some, warm=1)
        page = html()
        try:
            render_pdf(page)
        except PdfUnavailable as error:
            print(f"skipped: report PDF ({error.reason})")
            continue
        timed(
            f"report {days} days: PDF of that HTML ({len(page) // 1024} KiB HTML)",
            partial(render_pdf, page),
            some,
            warm=0,
        )


def main() -> None:
    args = options()
    inbox_list.setup_django(args.cache)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    world = prepare(args)
    connection.close()  # measure on a fresh connection, with only the product's own settings
    from tertulia.inbox.models import Message, ResponseTarget
    from tertulia.listening.models import QueryMatch
    from tertulia.publishing.models import DeliveryTarget

    brand = world.brand
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{connection.vendor}; {Message.objects.filter(brand=brand).count():,} messages, "
        f"{ResponseTarget.objects.filter(brand=brand).count():,} response targets, "
        f"{DeliveryTarget.objects.filter(brand=brand, state='sent').count():,} posts sent, "
        f"{QueryMatch.objects.filter(query__brand=brand).count():,} listening matches, "
        f"{len(world.channels)} channels; {args.runs} runs per case"
    )
    time_rollups(world)
    from tertulia.analytics.models import ChannelDay, PersonDay, QueryDay

    print(
        f"rolled up: {ChannelDay.objects.filter(brand=brand).count():,} channel days, "
        f"{QueryDay.objects.filter(brand=brand).count():,} query days, "
        f"{PersonDay.objects.filter(brand=brand).count():,} person days"
    )
    time_figures(world, args.runs)
    time_pages(world, args.runs)
    time_reports(world, args.runs)
    connection.close()


if __name__ == "__main__":
    main()
