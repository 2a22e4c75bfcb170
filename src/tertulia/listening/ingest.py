"""Posts from any listening source → matched against the queries → stored with their analysis.

    ingest([Item(...), ...], organization_id=org.pk)     # an organization's own source
    ingest(items, organization_id=None)                  # the installation's firehose: every organization

One transaction per batch: a batch is stored whole or not at all, so a reader that dies mid-way
reads it again from its cursor and duplicates are skipped by the (organization, network, remote id)
key. Only what some query matched is stored from the firehose; an organization's own sources
(feeds, hashtag streams) keep everything, so a backtest of a new query has history to run on.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from tertulia.listening import registry
from tertulia.listening.matcher import Matcher
from tertulia.listening.models import ListeningQuery, ListeningSource, Mention, QueryMatch
from tertulia.listening.query import Post
from tertulia.listening.query.folding import MAX_TEXT
from tertulia.nlp import Analysis, analyse_many
from tertulia.nlp.language import detect_language
from tertulia.nlp.normalize import normalize

logger = logging.getLogger(__name__)

MAX_REMOTE_ID = 500


@dataclass(frozen=True)
class Item:
    """One public post as a source delivers it."""

    network: str
    remote_id: str
    text: str
    published_at: datetime
    url: str = ""
    author_handle: str = ""
    author_name: str = ""
    author_followers: int | None = None
    language: str = ""  # the network's tag, when it has one
    channel_name: str = ""
    analysis: Analysis | None = None  # already analysed (the inbox did it): not done twice


@dataclass
class Ingested:
    seen: int = 0
    matched: int = 0  # items that matched at least one query
    stored: int = 0  # new mentions stored
    matches: int = 0  # new (query, mention) pairs
    queries: set[int] = field(default_factory=set)  # the queries that got new matches


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_FOLLOWERS = 2**31 - 1  # the column's range; a network that sends more (or less than 0) is wrong


def _clean(text: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and no UTF-8 can hold a lone surrogate (JSON "\ud800"): both
    # become U+FFFD. The rest is kept verbatim (and escaped wherever it is shown).
    text = text[:limit]
    return text if text.isascii() and "\x00" not in text else _UNSTORABLE.sub("\ufffd", text)


def _followers(count: int | None) -> int | None:
    return None if count is None else min(max(count, 0), MAX_FOLLOWERS)


def _language(item: Item) -> str:
    """The network's tag, else the language Tertulia identifies (what lang: compares, and what is stored)."""
    if item.language:
        return item.language
    if item.analysis is not None:
        return item.analysis.language
    return detect_language(normalize(item.text))


def _post(index: int, item: Item) -> Post:
    return Post(
        id=str(index),
        text=_clean(item.text, MAX_TEXT),
        author=item.author_handle,
        lang=_language(item),
        url=item.url,
        network=item.network,
        followers=_followers(item.author_followers),
        channel=item.channel_name,
    )


def match_items(matcher: Matcher, items: Sequence[Item]) -> list[list[str]]:
    return matcher.match([_post(index, item) for index, item in enumerate(items)])


def ingest(
    items: Sequence[Item],
    *,
    organization_id: int | None,
    source: ListeningSource | None = None,
    keep_unmatched: bool = False,
) -> Ingested:
    """Match `items`, store what matched (everything, with `keep_unmatched`), link each to its queries."""
    items = [item for item in items if item.remote_id and len(item.remote_id) <= MAX_REMOTE_ID]
    result = Ingested(seen=len(items))
    if not items:
        return result
    compiled = registry.compiled(organization_id)
    found = match_items(compiled.matcher, items)
    # organization → item index → query ids
    wanted: dict[int, dict[int, list[int]]] = defaultdict(dict)
    for index, query_ids in enumerate(found):
        if query_ids:
            result.matched += 1
        for query_id in query_ids:
            wanted[compiled.owners[query_id]].setdefault(index, []).append(int(query_id))
    if keep_unmatched and organization_id is not None:
        for index in range(len(items)):
            wanted[organization_id].setdefault(index, [])
    if not wanted:
        return result
    needed = sorted({index for by_item in wanted.values() for index in by_item})
    analyses = _analyses([items[index] for index in needed])
    analysis_of = dict(zip(needed, analyses, strict=True))
    with transaction.atomic():
        for organization, by_item in wanted.items():
            _store(organization, source, items, by_item, analysis_of, result)
    return result


def _analyses(items: Sequence[Item]) -> list[Analysis]:
    missing = [item for item in items if item.analysis is None]
    fresh = iter(
        analyse_many([item.text for item in missing], language_hints=[item.language for item in missing])
    )
    return [item.analysis if item.analysis is not None else next(fresh) for item in items]


def _store(
    organization: int,
    source: ListeningSource | None,
    items: Sequence[Item],
    by_item: dict[int, list[int]],
    analysis_of: dict[int, Analysis],
    result: Ingested,
    *,
    backfilled: bool = False,
) -> None:
    rows = []
    for index in by_item:
        item, analysis = items[index], analysis_of[index]
        rows.append(
            Mention(
                organization_id=organization,
                source=source if source is not None and source.organization_id == organization else None,
                network=item.network[:32],
                remote_id=item.remote_id,
                url=_clean(item.url, 1000),
                author_handle=_clean(item.author_handle, 255),
                author_name=_clean(item.author_name, 255),
                author_followers=_followers(item.author_followers),
                channel_name=_clean(item.channel_name, 255),
                text=_clean(item.text, MAX_TEXT),
                published_at=item.published_at,
                language=analysis.language[:8],
                sentiment=analysis.sentiment.value,
                sentiment_score=analysis.sentiment_score,
                intent=analysis.intent.value,
            )
        )
    # The same post twice in a batch (a boost and its original, a catch-up overlapping the stream)
    # is one row; rows go in key order, so two writers never wait for each other in a cycle.
    unique = {(row.network, row.remote_id): row for row in reversed(rows)}
    keys = set(unique)
    existing = _mention_ids(organization, keys)
    new_rows = [unique[key] for key in sorted(keys) if key not in existing]
    Mention.objects.bulk_create(new_rows, ignore_conflicts=True)
    ids = _mention_ids(organization, keys)
    result.stored += len(ids) - len(existing)
    links = []
    for index, query_ids in by_item.items():
        item = items[index]
        mention_id = ids.get((item.network[:32], item.remote_id))
        if mention_id is None:  # pragma: no cover - stored just above, in this transaction
            continue
        for query_id in query_ids:
            links.append(
                QueryMatch(
                    query_id=query_id,
                    mention_id=mention_id,
                    published_at=item.published_at,
                    sentiment=analysis_of[index].sentiment.value,
                    backfilled=backfilled,
                )
            )
    linked = set(
        QueryMatch.objects.filter(mention_id__in=list(ids.values())).values_list("query_id", "mention_id")
    )
    fresh = {
        (link.query_id, link.mention_id): link
        for link in links
        if (link.query_id, link.mention_id) not in linked
    }
    QueryMatch.objects.bulk_create([fresh[key] for key in sorted(fresh)], ignore_conflicts=True)
    result.matches += len(fresh)
    result.queries.update(query_id for query_id, _ in fresh)


def store_for_query(query: ListeningQuery, items: Sequence[Item]) -> int:
    """Store `items` for the query's organization and link each to the query (a backtest's backfill)."""
    items = [item for item in items if item.remote_id and len(item.remote_id) <= MAX_REMOTE_ID]
    if not items:
        return 0
    analysis_of = dict(enumerate(_analyses(items)))
    result = Ingested(seen=len(items), matched=len(items))
    with transaction.atomic():
        by_item = {index: [query.pk] for index in range(len(items))}
        _store(query.organization_id, None, items, by_item, analysis_of, result, backfilled=True)
    return result.matches


def _mention_ids(organization: int, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    found: dict[tuple[str, str], int] = {}
    by_network: dict[str, list[str]] = defaultdict(list)
    for network, remote_id in keys:
        by_network[network].append(remote_id)
    for network, remote_ids in by_network.items():
        for start in range(0, len(remote_ids), 500):
            rows = Mention.objects.filter(
                organization_id=organization, network=network, remote_id__in=remote_ids[start : start + 500]
            ).values_list("network", "remote_id", "id")
            found.update({(row_network, remote_id): pk for row_network, remote_id, pk in rows})
    return found
