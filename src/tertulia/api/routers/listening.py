"""Listening: check a query, save queries per brand, try them on stored history.
What they found is in tertulia.api.routers.listening_insight; alerts and sources in listening_settings.

Checking a query and reading need `listening:read` (every member); saving, backtesting and
backfilling need `listening:write` (owners, admins, brand managers, analysts). A query the parser
refuses is 422 `invalid_query` with the positioned `error` (the same object the validation
endpoint returns); a PATCH with a stale `version` is 409 `version_conflict`. Another
organization's ids are 404.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.listening_schemas import (
    BackfillOut,
    BacktestIn,
    BacktestOut,
    ListeningQueryFilter,
    ListeningQueryIn,
    ListeningQueryOut,
    ListeningQueryPatch,
    UnsavedBacktestIn,
    ValidateIn,
    ValidateOut,
)
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.permissions import Perm, has_perm
from tertulia.listening.actions import queries
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.backtest import Backtest, backfill, run_backtest
from tertulia.listening.models import ListeningQuery
from tertulia.listening.query import ParsedQuery, QueryError, parse
from tertulia.listening.query.render import as_data

router = Router(tags=["listening"])


# ---------------------------------------------------------------- shared by the listening routers


def fetch_query(request: HttpRequest, scope: Scope, query_id: int) -> tuple[ApiContext, ListeningQuery]:
    """The caller's context if the token may use `scope`, and the query if it is their organization's."""
    ctx = require(request, scope)
    query = get_object_or_404(
        ctx.restrict(ListeningQuery.objects.select_related("organization", "brand")), pk=query_id
    )
    return ctx, query


def query_error(error: QueryError, field: str) -> ApiError:
    """422 `invalid_query`: the message, the field, and where in the query (`error`)."""
    return ApiError(
        422,
        error.message,
        "invalid_query",
        errors=[{"loc": ["body", field], "msg": error.message, "type": error.code}],
        error=error.as_dict(),
    )


def refusal(refused: ListeningRefused, ctx: ApiContext, fields: dict[str, str] | None = None) -> ApiError:
    """A listening action's refusal as an API error: 403 for who the caller is, 422 for what was sent."""
    if refused.denied or not has_perm(ctx.user, ctx.organization, Perm.MANAGE_LISTENING):
        return ApiError(403, refused.message, "permission_denied")
    field = (fields or {}).get(refused.field, refused.field)
    if refused.error is not None:
        return query_error(refused.error, field or "text")
    if field:
        return ApiError(
            422,
            refused.message,
            "validation_error",
            errors=[{"loc": ["body", field], "msg": refused.message, "type": "invalid"}],
        )
    return ApiError(422, refused.message, "refused")


def parsed_or_422(text: str, field: str) -> ParsedQuery:
    try:
        return parse(text)
    except QueryError as error:
        raise query_error(error, field) from None


# ---------------------------------------------------------------- validating


@router.post(
    "/listening/queries/validate",
    response=ValidateOut,
    summary="Check a query: its parse, or where and what is wrong (nothing is saved)",
    description=(
        "Always 200 for a query that was read: `valid: true` with `tree`, `terms` and `warnings`, or "
        "`valid: false` with `error` (`code`, `message`, `position` and `length` in code points, "
        "`expected`). A body over the size limit is 413; a query over twice the parser's limit is 422."
    ),
)
def validate_query(request: HttpRequest, payload: ValidateIn) -> dict[str, Any]:
    require(request, Scope.LISTENING_READ)
    try:
        parsed = parse(payload.query)
    except QueryError as error:
        return {"valid": False, "error": error.as_dict()}
    return {
        "valid": True,
        "tree": as_data(parsed.root),
        "terms": parsed.terms,
        "warnings": [
            {"code": warning.code, "position": warning.position, "message": warning.message}
            for warning in parsed.warnings
        ],
    }


# ---------------------------------------------------------------- saved queries


@router.get(
    "/listening/queries",
    response=list[ListeningQueryOut],
    summary="The organization's saved listening queries, by group and name",
)
@paginate(Pagination)
def list_listening_queries(
    request: HttpRequest, filters: Query[ListeningQueryFilter]
) -> QuerySet[ListeningQuery]:
    ctx = require(request, Scope.LISTENING_READ)
    found = ctx.restrict(ListeningQuery.objects.all())
    if filters.brand_id is not None:
        found = found.filter(brand_id=filters.brand_id)
    if filters.group is not None:
        found = found.filter(group=filters.group)
    if filters.active is not None:
        found = found.filter(is_active=filters.active)
    return found.order_by("brand_id", "group", "name", "id")


@router.post(
    "/listening/queries",
    response={201: ListeningQueryOut},
    summary="Save a query for a brand",
    description=(
        "Matched live from then on (and by backfill on history, if asked). 422 `invalid_query` with the "
        "positioned `error` when the parser refuses the text; 422 `validation_error` for a name the brand "
        "already uses."
    ),
)
def create_listening_query(request: HttpRequest, payload: ListeningQueryIn) -> Status[ListeningQuery]:
    ctx = require(request, Scope.LISTENING_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=payload.brand_id)
    try:
        query = queries.create_query(
            ctx.actor(request),
            brand,
            name=payload.name,
            text=payload.text,
            group=payload.group,
            is_active=payload.is_active,
        )
    except ListeningRefused as refused:
        raise refusal(refused, ctx) from None
    return Status(201, query)


@router.get("/listening/queries/{query_id}", response=ListeningQueryOut, summary="One saved query")
def get_listening_query(request: HttpRequest, query_id: ObjectId) -> ListeningQuery:
    return fetch_query(request, Scope.LISTENING_READ, query_id)[1]


@router.patch(
    "/listening/queries/{query_id}",
    response=ListeningQueryOut,
    summary="Change a query's name, text, group or whether it is on (with the `version` you read)",
)
def update_listening_query(
    request: HttpRequest, query_id: ObjectId, payload: ListeningQueryPatch
) -> ListeningQuery:
    ctx, query = fetch_query(request, Scope.LISTENING_WRITE, query_id)
    stale = _("Someone else changed this query meanwhile: reload it and try again.")
    if query.version != payload.version:
        raise ApiError(409, stale, "version_conflict", version=query.version)
    try:
        return queries.update_query(
            ctx.actor(request),
            query,
            version=payload.version,
            name=payload.name,
            text=payload.text,
            group=payload.group,
            is_active=payload.is_active,
        )
    except ListeningRefused as refused:
        current = ListeningQuery.objects.filter(pk=query.pk).values_list("version", flat=True).first()
        if current is None:
            raise ApiError(404, _("Not found."), "not_found") from None
        if current != payload.version and not refused.field:
            raise ApiError(409, refused.message, "version_conflict", version=current) from None
        raise refusal(refused, ctx) from None


@router.delete(
    "/listening/queries/{query_id}",
    response={204: None},
    summary="Delete a query, its matches and its alerts (the mentions stay)",
)
def delete_listening_query(request: HttpRequest, query_id: ObjectId) -> Status[None]:
    ctx, query = fetch_query(request, Scope.LISTENING_WRITE, query_id)
    try:
        queries.delete_query(ctx.actor(request), query)
    except ListeningRefused as refused:
        raise refusal(refused, ctx) from None
    return Status(204, None)


# ---------------------------------------------------------------- backtests and backfill


def _since(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def _backtest_out(result: Backtest, since: datetime) -> dict[str, Any]:
    return {
        "since": since,
        "checked": result.checked,
        "matched": result.matched,
        "truncated": result.truncated,
        "by_day": [{"day": day, "count": count} for day, count in sorted(result.by_day.items())],
        "sample": [
            {
                "network": item.network,
                "remote_id": item.remote_id,
                "text": item.text,
                "published_at": item.published_at,
                "url": item.url,
                "author_handle": item.author_handle,
                "author_name": item.author_name,
                "author_followers": item.author_followers,
                "language": item.language,
                "channel_name": item.channel_name,
                "sentiment": str(item.analysis.sentiment) if item.analysis is not None else None,
            }
            for item in result.sample
        ],
    }


_BACKTEST_DESCRIPTION = (
    "Reads the organization's stored history — the mentions listening kept and the messages its channels "
    "received — newest first, at most 200,000 of them (`truncated` says when there was more). Nothing is "
    "saved."
)


@router.post(
    "/listening/queries/{query_id}/backtest",
    response=BacktestOut,
    summary="What a saved query would have found in the last `days` days",
    description=_BACKTEST_DESCRIPTION,
)
def backtest_listening_query(request: HttpRequest, query_id: ObjectId, payload: BacktestIn) -> dict[str, Any]:
    ctx, query = fetch_query(request, Scope.LISTENING_WRITE, query_id)
    since = _since(payload.days)
    return _backtest_out(run_backtest(parsed_or_422(query.text, "text"), ctx.organization.pk, since), since)


@router.post(
    "/listening/backtest",
    response=BacktestOut,
    summary="What an unsaved query would have found in the last `days` days",
    description=_BACKTEST_DESCRIPTION + " A query the parser refuses is 422 `invalid_query`.",
)
def backtest_unsaved_query(request: HttpRequest, payload: UnsavedBacktestIn) -> dict[str, Any]:
    ctx = require(request, Scope.LISTENING_WRITE)
    parsed = parsed_or_422(payload.query, "query")
    since = _since(payload.days)
    return _backtest_out(run_backtest(parsed, ctx.organization.pk, since), since)


@router.post(
    "/listening/queries/{query_id}/backfill",
    response=BackfillOut,
    summary="Link a saved query to what it matches in the last `days` days of stored history",
    description=(
        "The matches count in its mentions and insight (marked `backfilled`); running it again adds only "
        "what is new. Audited."
    ),
)
def backfill_listening_query(request: HttpRequest, query_id: ObjectId, payload: BacktestIn) -> dict[str, Any]:
    ctx, query = fetch_query(request, Scope.LISTENING_WRITE, query_id)
    parsed = parsed_or_422(query.text, "text")
    since = _since(payload.days)
    try:
        added = backfill(ctx.actor(request), query, parsed, since)
    except ListeningRefused as refused:
        raise refusal(refused, ctx) from None
    return {"since": since, "added": added}
