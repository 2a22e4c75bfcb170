"""Run a query over stored history: what it would have found, before it is saved or switched on.

History is what Tertulia already holds for the organization: the mentions listening stored (every
item of its own feeds and hashtag streams, and what any query matched on the firehose) and the
messages its connected channels received. A backtest reads at most `MAX_ROWS` of them, newest first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from django.db import transaction

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.inbox.models import Direction, Message
from tertulia.listening.actions.common import require_manage
from tertulia.listening.ingest import Item, store_for_query
from tertulia.listening.matcher import Matcher
from tertulia.listening.models import ListeningQuery, Mention
from tertulia.listening.query import ParsedQuery, Post
from tertulia.listening.tasks import item_of
from tertulia.nlp import Analysis, Intent, Sentiment, Urgency

MAX_ROWS = 200_000
CHUNK = 2_000
SAMPLE = 20


@dataclass
class Backtest:
    checked: int = 0
    matched: int = 0
    by_day: Counter[date] = field(default_factory=Counter)
    sample: list[Item] = field(default_factory=list)  # the newest matches
    truncated: bool = False  # more history than MAX_ROWS: only the newest were read


def _mentions(organization_id: int, since: datetime) -> Iterator[list[Item]]:
    rows = Mention.objects.filter(organization_id=organization_id, published_at__gte=since).order_by(
        "-published_at", "-id"
    )
    last: tuple[datetime, int] | None = None
    while True:
        page = (
            rows
            if last is None
            else rows.filter(published_at__lte=last[0]).exclude(published_at=last[0], id__gte=last[1])
        )
        chunk = list(page[:CHUNK])
        if not chunk:
            return
        last = (chunk[-1].published_at, chunk[-1].pk)
        yield [
            Item(
                network=row.network,
                remote_id=row.remote_id,
                text=row.text,
                published_at=row.published_at,
                url=row.url,
                author_handle=row.author_handle,
                author_name=row.author_name,
                author_followers=row.author_followers,
                language=row.language,
                channel_name=row.channel_name,
                analysis=Analysis(
                    language=row.language,
                    sentiment=Sentiment(row.sentiment),
                    sentiment_score=row.sentiment_score,
                    intent=Intent(row.intent),
                    urgency=Urgency.NORMAL,
                ),
            )
            for row in chunk
        ]


def _messages(organization_id: int, since: datetime) -> Iterator[list[Item]]:
    rows = (
        Message.objects.filter(
            organization_id=organization_id, direction=Direction.INBOUND, sent_at__gte=since
        )
        .exclude(remote_id="")
        .select_related("channel")
        .order_by("-id")
    )
    last_id: int | None = None
    while True:
        page = rows if last_id is None else rows.filter(id__lt=last_id)
        chunk = list(page[:CHUNK])
        if not chunk:
            return
        last_id = chunk[-1].pk
        yield [item_of(message) for message in chunk]


def run_backtest(parsed: ParsedQuery, organization_id: int, since: datetime, zone: tzinfo = UTC) -> Backtest:
    """`zone`: the days of `by_day` are days there (the brand's time zone)."""
    matcher = Matcher({"q": parsed})
    result = Backtest()
    seen: set[tuple[str, str]] = set()  # a channel message listening also stored counts once
    for source in (_mentions(organization_id, since), _messages(organization_id, since)):
        for items in source:
            fresh = [item for item in items if (item.network, item.remote_id) not in seen]
            seen.update((item.network, item.remote_id) for item in fresh)
            found = matcher.match([_post(item) for item in fresh])
            for item, query_ids in zip(fresh, found, strict=True):
                if query_ids:
                    result.matched += 1
                    result.by_day[item.published_at.astimezone(zone).date()] += 1
                    if len(result.sample) < SAMPLE:
                        result.sample.append(item)
            result.checked += len(fresh)
            if result.checked >= MAX_ROWS:
                result.truncated = True
                return result
    return result


def _post(item: Item) -> Post:
    return Post(
        id=item.remote_id,
        text=item.text,
        author=item.author_handle,
        lang=item.language,
        url=item.url,
        network=item.network,
        followers=item.author_followers,
        channel=item.channel_name,
    )


@transaction.atomic
def backfill(actor: Actor, query: ListeningQuery, parsed: ParsedQuery, since: datetime) -> int:
    """Link the query to every stored mention and channel message it matches since `since`; how many new.

    All or nothing, with its audit entry, over the same newest `MAX_ROWS` a backtest reads.
    """
    require_manage(actor, query.organization)
    matcher = Matcher({str(query.pk): parsed})
    added = checked = 0
    seen: set[tuple[str, str]] = set()
    for source in (_mentions(query.organization_id, since), _messages(query.organization_id, since)):
        for items in source:
            fresh = [item for item in items if (item.network, item.remote_id) not in seen][
                : MAX_ROWS - checked
            ]
            seen.update((item.network, item.remote_id) for item in fresh)
            found = matcher.match([_post(item) for item in fresh])
            matched = [item for item, ids in zip(fresh, found, strict=True) if ids]
            if matched:
                added += store_for_query(query, matched)
            checked += len(fresh)
            if checked >= MAX_ROWS:
                break
        if checked >= MAX_ROWS:
            break
    record(
        actor,
        query.organization,
        "listening.query_backfilled",
        query,
        {"since": since.isoformat(), "added": added},
    )
    return added
