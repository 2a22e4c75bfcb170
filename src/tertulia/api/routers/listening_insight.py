"""Listening: what the queries found. Mentions of a query, its insight (volume, sentiment, top
authors, rising terms) and a brand's share of voice against its competitors.

Everything here needs `listening:read` (every member, as on the web). Periods run from `since`
(included) to `until` (not included): by default the last 7 days, at most 366 days, within
1970-2999. Another organization's ids are 404.
"""

import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, overload

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate

from tertulia.api.auth import require
from tertulia.api.errors import ApiError
from tertulia.api.listening_schemas import (
    InsightOut,
    MentionFilter,
    MentionOut,
    PeriodFilter,
    ShareOfVoiceOut,
)
from tertulia.api.pagination import Pagination
from tertulia.api.routers.listening import fetch_query
from tertulia.api.schemas import ObjectId
from tertulia.api.scopes import Scope
from tertulia.listening import insight
from tertulia.listening.models import QueryMatch

router = Router(tags=["listening"])

DEFAULT_PERIOD = timedelta(days=7)
MAX_PERIOD = timedelta(days=366)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _invalid_period(message: str, field: str) -> ApiError:
    return ApiError(
        422,
        message,
        "validation_error",
        errors=[{"loc": ["query", field], "msg": message, "type": "invalid"}],
    )


def period_of(filters: PeriodFilter) -> insight.Period:
    """The period asked for, or 422: `since` before `until`, at most 366 days, within 1970-2999."""
    for field, moment in (("since", filters.since), ("until", filters.until)):
        if moment is not None and not EARLIEST <= moment < LATEST:
            raise _invalid_period(_("Choose a time from 1970 to 2999."), field)
    until = filters.until or timezone.now()
    since = filters.since or max(until - DEFAULT_PERIOD, EARLIEST)
    if since >= until:
        raise _invalid_period(_("The start of the period must come before its end."), "since")
    if until - since > MAX_PERIOD:
        raise _invalid_period(_("A period is at most 366 days long."), "since")
    return insight.Period(since, until)


class _Converted(Sequence[dict[str, Any]]):
    """A queryset whose rows are turned into dicts only for the page asked for (for `paginate`)."""

    def __init__(self, rows: QuerySet[QueryMatch], convert: Callable[[QueryMatch], dict[str, Any]]) -> None:
        self.rows = rows
        self.convert = convert

    def __len__(self) -> int:
        return self.rows.count()

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self.convert(row) for row in self.rows[index]]
        return self.convert(self.rows[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self.convert(row) for row in self.rows)


def _mention_out(match: QueryMatch) -> dict[str, Any]:
    mention = match.mention
    return {
        "id": mention.pk,
        "network": mention.network,
        "remote_id": mention.remote_id,
        "url": mention.url,
        "author_handle": mention.author_handle,
        "author_name": mention.author_name,
        "author_followers": mention.author_followers,
        "channel_name": mention.channel_name,
        "text": mention.text,
        "published_at": mention.published_at,
        "language": mention.language,
        "sentiment": mention.sentiment,
        "sentiment_score": mention.sentiment_score,
        "intent": mention.intent,
        "source_id": mention.source_id,
        "matched_at": match.matched_at,
        "backfilled": match.backfilled,
    }


@router.get(
    "/listening/queries/{query_id}/mentions",
    response=list[MentionOut],
    summary="What a query matched, newest first",
    description="Filters: `since`, `until` (by the time the post was published) and `sentiment`.",
)
@paginate(Pagination)
def list_query_mentions(
    request: HttpRequest, query_id: ObjectId, filters: Query[MentionFilter]
) -> Sequence[dict[str, Any]]:
    _ctx, query = fetch_query(request, Scope.LISTENING_READ, query_id)
    rows = QueryMatch.objects.filter(query=query).select_related("mention")
    if filters.since is not None:
        rows = rows.filter(published_at__gte=filters.since)
    if filters.until is not None:
        rows = rows.filter(published_at__lt=filters.until)
    if filters.sentiment is not None:
        rows = rows.filter(mention__sentiment=filters.sentiment)
    return _Converted(rows.order_by("-published_at", "-mention_id"), _mention_out)


@router.get(
    "/listening/queries/{query_id}/insight",
    response=InsightOut,
    summary="A query's volume over time, sentiment share, top authors and rising terms",
    description=(
        "Volume by the hour (periods of two days or less) or by the day, in the brand's time zone, with "
        "empty buckets as 0. Rising terms compare the period with the equally long period before it."
    ),
)
def get_query_insight(
    request: HttpRequest, query_id: ObjectId, filters: Query[PeriodFilter]
) -> dict[str, Any]:
    _ctx, query = fetch_query(request, Scope.LISTENING_READ, query_id)
    period = period_of(filters)
    zone_name = query.brand.timezone
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # a brand's zone is checked when saved; still
        zone_name, zone = "UTC", zoneinfo.ZoneInfo("UTC")
    share = insight.sentiment_share([query.pk], period)
    return {
        "query_id": query.pk,
        "since": period.since,
        "until": period.until,
        "timezone": zone_name,
        "hourly": period.hourly,
        "volume": [
            {"at": moment.replace(tzinfo=zone), "count": count}
            for moment, count in insight.volume([query.pk], period, zone_name)
        ],
        "sentiment": {**share, "total": sum(share.values())},
        "top_authors": [
            {
                "handle": author.handle,
                "name": author.name,
                "network": author.network,
                "followers": author.followers,
                "mentions": author.mentions,
            }
            for author in insight.top_authors([query.pk], period)
        ],
        "rising_terms": [
            {"text": term.text, "recent": term.recent, "before": term.before, "score": term.score}
            for term in insight.rising_terms([query.pk], period.until, period.until - period.since)
        ],
    }


@router.get(
    "/listening/brands/{brand_id}/share-of-voice",
    response=ShareOfVoiceOut,
    summary="A brand's share of voice: its queries against its competitors' in a period",
    description=(
        "Counts the matches of the brand's `brand` and `competitor` queries; industry topics are left out."
    ),
)
def get_share_of_voice(
    request: HttpRequest, brand_id: ObjectId, filters: Query[PeriodFilter]
) -> dict[str, Any]:
    ctx = require(request, Scope.LISTENING_READ)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    period = period_of(filters)
    voices = insight.share_of_voice(brand, period)
    return {
        "brand_id": brand.pk,
        "since": period.since,
        "until": period.until,
        "total": sum(voice.mentions for voice in voices),
        "queries": [
            {
                "query_id": voice.query.pk,
                "name": voice.query.name,
                "group": voice.query.group,
                "mentions": voice.mentions,
                "share": voice.share,
            }
            for voice in voices
        ],
    }
