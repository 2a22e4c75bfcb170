"""What listening found, summarised for charts, tables and exports (read-only selectors).

Every figure is computed from `QueryMatch` rows, which copy the mention's time and sentiment, so
volume and sentiment read one index (query, published_at, sentiment) and never the texts.
"""

from __future__ import annotations

import math
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Max, QuerySet
from django.db.models.functions import TruncDay, TruncHour

from tertulia.core.models import Brand
from tertulia.listening.models import ListeningQuery, Mention, QueryGroup, QueryMatch
from tertulia.listening.query import QueryError, parse
from tertulia.listening.query import syntax as s
from tertulia.listening.query.folding import fold, words
from tertulia.listening.query.render import children


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    @property
    def hourly(self) -> bool:
        """Two days or less are shown by the hour, longer periods by the day."""
        return self.until - self.since <= timedelta(days=2)


def _matches(query_ids: Sequence[int], period: Period) -> QuerySet[QueryMatch]:
    return QueryMatch.objects.filter(
        query_id__in=list(query_ids), published_at__gte=period.since, published_at__lt=period.until
    )


def volume(query_ids: Sequence[int], period: Period, timezone_name: str) -> list[tuple[datetime, int]]:
    """Mentions per hour or day in the brand's time zone, with empty buckets filled in as 0."""
    zone = zoneinfo.ZoneInfo(timezone_name)
    trunc = TruncHour if period.hourly else TruncDay
    rows = (
        _matches(query_ids, period)
        .annotate(bucket=trunc("published_at", tzinfo=zone))
        .values("bucket")
        .annotate(count=Count("mention_id", distinct=True))
        .order_by("bucket")
    )
    counts = {row["bucket"].astimezone(zone).replace(tzinfo=None): row["count"] for row in rows}
    step = timedelta(hours=1) if period.hourly else timedelta(days=1)
    start = period.since.astimezone(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    if not period.hourly:
        start = start.replace(hour=0)
    end = period.until.astimezone(zone).replace(tzinfo=None)
    series: list[tuple[datetime, int]] = []
    current = start
    while current < end and len(series) < 24 * 93:  # at most three months by the hour
        series.append((current, counts.get(current, 0)))
        current += step
    return series


def sentiment_share(query_ids: Sequence[int], period: Period) -> dict[str, int]:
    rows = _matches(query_ids, period).values("sentiment").annotate(count=Count("mention_id", distinct=True))
    found = {"negative": 0, "neutral": 0, "positive": 0}
    found.update({row["sentiment"]: row["count"] for row in rows})
    return found


@dataclass(frozen=True)
class Voice:
    query: ListeningQuery
    mentions: int
    share: float  # of all brand and competitor mentions in the period, 0..1


def share_of_voice(brand: Brand, period: Period) -> list[Voice]:
    """The brand's queries against its competitors': who is talked about, and how much."""
    queries = list(
        ListeningQuery.objects.filter(brand=brand, group__in=[QueryGroup.BRAND, QueryGroup.COMPETITOR])
    )
    counts = dict(
        _matches([query.pk for query in queries], period)
        .values("query_id")
        .annotate(count=Count("id"))
        .values_list("query_id", "count")
    )
    total = sum(counts.values())
    voices = [
        Voice(query, counts.get(query.pk, 0), counts.get(query.pk, 0) / total if total else 0.0)
        for query in queries
    ]
    return sorted(voices, key=lambda voice: (-voice.mentions, voice.query.name))


@dataclass(frozen=True)
class Author:
    handle: str
    name: str
    network: str
    followers: int | None
    mentions: int


def top_authors(query_ids: Sequence[int], period: Period, limit: int = 10) -> list[Author]:
    """The authors with the widest reach among those who posted matches, and how often they did."""
    rows = (
        Mention.objects.filter(
            matches__query_id__in=list(query_ids),
            matches__published_at__gte=period.since,
            matches__published_at__lt=period.until,
        )
        .exclude(author_handle="")
        .values("network", "author_handle")
        .annotate(
            followers=Max("author_followers"), name=Max("author_name"), mentions=Count("id", distinct=True)
        )
        # An unknown reach goes last on every database (PostgreSQL would put NULL first when descending).
        .order_by(F("followers").desc(nulls_last=True), "-mentions", "author_handle")[:limit]
    )
    return [
        Author(row["author_handle"], row["name"] or "", row["network"], row["followers"], row["mentions"])
        for row in rows
    ]


# Function words of Spanish and English: never a "rising term".
_STOPWORD_TEXT = """
a al algo ante asi como con contra cual cuando de del desde donde el ella ellos en entre era es esa
ese eso esta estan este esto fue ha han hay la las le les lo los mas me mi mis muy nada ni no nos o
os para pero poco por porque que se ser si sin sobre son su sus tan te tiene todo tu un una uno unos
y ya yo about after all also an and any are as at be been but by can could did do does for from had
has have he her him his how i if in into is it its just like me more my no not now of on or our out
she so some than that the their them then there these they this to too up us was we were what when
which who will with would you your http https www com rt amp
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
SAMPLE = 5_000


@dataclass(frozen=True)
class Term:
    text: str
    recent: int
    before: int
    score: float


def rising_terms(query_ids: Sequence[int], now: datetime, window: timedelta, limit: int = 15) -> list[Term]:
    """Words used far more in the last `window` than in the one before it (by mentions using them).

    Reads at most the latest 5,000 matched texts of each window; the query's own words are left
    out (they are in every match). The score favours words both frequent now and new.
    """
    own = _query_words(query_ids)
    recent = _term_counts(query_ids, now - window, now, own)
    before = _term_counts(query_ids, now - 2 * window, now - window, own)
    terms = [
        Term(text, count, before.get(text, 0), math.log1p(count) * (count + 1) / (before.get(text, 0) + 1))
        for text, count in recent.items()
        if count >= 3 and count > before.get(text, 0)
    ]
    return sorted(terms, key=lambda term: (-term.score, term.text))[:limit]


def _term_counts(query_ids: Sequence[int], since: datetime, until: datetime, own: set[str]) -> Counter[str]:
    texts = (
        Mention.objects.filter(
            matches__query_id__in=list(query_ids), published_at__gte=since, published_at__lt=until
        )
        .distinct()
        .order_by("-published_at")
        .values_list("id", "text")[:SAMPLE]  # the id keeps identical texts apart: each is a mention
    )
    counts: Counter[str] = Counter()
    for _, text in texts:
        counts.update(
            {word for word in words(fold(text[:5_000])) if len(word) > 2 and not word.isdigit()}
            - _STOPWORDS
            - own
        )
    return counts


def _query_words(query_ids: Iterable[int]) -> set[str]:
    found: set[str] = set()
    for text in ListeningQuery.objects.filter(pk__in=list(query_ids)).values_list("text", flat=True):
        try:
            stack: list[s.Node] = [parse(text).root]
        except QueryError:  # a stored query that no longer parses has no words to leave out
            continue
        while stack:
            node = stack.pop()
            if isinstance(node, s.Words):
                found.update(pattern.text for pattern in node.patterns)
            elif isinstance(node, s.Tagged):
                found.add(node.pattern.text)
            stack.extend(children(node))
    return found
