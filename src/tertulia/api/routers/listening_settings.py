"""Listening: alerts on a query and the organization's own sources (feeds, Mastodon streams).

Reading needs `listening:read`; adding, changing and removing need `listening:write`. A refusal
for what was sent is 422 with the field in `errors` (a source already there, a recipient who is
not an active member). Another organization's ids are 404.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.listening_schemas import AlertIn, AlertOut, SourceIn, SourceOut, SourcePatch
from tertulia.api.pagination import Pagination
from tertulia.api.routers.listening import fetch_query, refusal
from tertulia.api.schemas import ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.models import User
from tertulia.listening.actions import alerts, sources
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.models import ListeningSource, QueryAlert

router = Router(tags=["listening"])


# ---------------------------------------------------------------- alerts


def _alert_out(alert: QueryAlert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "query_id": alert.query_id,
        "kind": alert.kind,
        "threshold": alert.threshold,
        "window_minutes": alert.window_minutes,
        "minimum_mentions": alert.minimum_mentions,
        "recipients": sorted(user.pk for user in alert.recipients.all()),
        "is_active": alert.is_active,
        "last_fired_at": alert.last_fired_at,
        "created_at": alert.created_at,
    }


@router.get(
    "/listening/queries/{query_id}/alerts",
    response=list[AlertOut],
    summary="A query's alerts, oldest first",
)
@paginate(Pagination)
def list_query_alerts(request: HttpRequest, query_id: ObjectId) -> list[dict[str, Any]]:
    _ctx, query = fetch_query(request, Scope.LISTENING_READ, query_id)
    found = QueryAlert.objects.filter(query=query).prefetch_related("recipients").order_by("created_at", "id")
    return [_alert_out(alert) for alert in found]


@router.post(
    "/listening/queries/{query_id}/alerts",
    response={201: AlertOut},
    summary="Alert people when a query's volume or negative share passes a threshold",
    description=(
        "`volume`: more than `threshold` mentions in the last `window_minutes`. `negative_share`: more than "
        "`threshold` percent negative (1 to 99), once there are at least `minimum_mentions`. Recipients "
        "must be active members of the organization (422 otherwise)."
    ),
)
def create_query_alert(request: HttpRequest, query_id: ObjectId, payload: AlertIn) -> Status[dict[str, Any]]:
    ctx, query = fetch_query(request, Scope.LISTENING_WRITE, query_id)
    wanted = set(payload.recipients)
    people = list(User.objects.filter(pk__in=wanted))
    try:
        if len(people) != len(wanted):  # an id of nobody: as refused as someone of another organization
            raise ListeningRefused(_("Alerts can only go to people in this organization."), "recipients")
        alert = alerts.create_alert(
            ctx.actor(request),
            query,
            kind=payload.kind,
            threshold=payload.threshold,
            recipients=people,
            window_minutes=payload.window_minutes,
            minimum_mentions=payload.minimum_mentions,
        )
    except ListeningRefused as refused:
        raise refusal(refused, ctx) from None
    return Status(201, _alert_out(QueryAlert.objects.prefetch_related("recipients").get(pk=alert.pk)))


@router.delete("/listening/alerts/{alert_id}", response={204: None}, summary="Delete an alert")
def delete_query_alert(request: HttpRequest, alert_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.LISTENING_WRITE)
    alert = get_object_or_404(
        ctx.restrict(QueryAlert.objects.select_related("query__organization"), brand_path="query__brand"),
        pk=alert_id,
    )
    try:
        alerts.delete_alert(ctx.actor(request), alert)
    except ListeningRefused as refused:
        raise refusal(refused, ctx) from None
    return Status(204, None)


# ---------------------------------------------------------------- sources


def _source(request: HttpRequest, scope: Scope, source_id: int) -> tuple[ApiContext, ListeningSource]:
    ctx = require(request, scope)
    found = get_object_or_404(
        ListeningSource.objects.select_related("organization"), pk=source_id, organization=ctx.organization
    )
    return ctx, found


@router.get(
    "/listening/sources",
    response=list[SourceOut],
    summary="The organization's own listening sources: feeds and Mastodon streams, by name",
    description=(
        "Connected channels always count as sources and are not listed; nor is the installation's Bluesky "
        "firehose. `last_error` says why the latest read failed (empty when it worked)."
    ),
)
@paginate(Pagination)
def list_listening_sources(request: HttpRequest) -> QuerySet[ListeningSource]:
    ctx = require(request, Scope.LISTENING_READ)
    return ListeningSource.objects.filter(organization=ctx.organization).order_by("name", "id")


@router.post(
    "/listening/sources",
    response={201: SourceOut},
    summary="Listen to a feed, a Mastodon server's public timeline or one of its hashtags",
    description=(
        "`url` starts with https:// (or http://); for Mastodon only the server counts "
        "(`https://mastodon.social`). A source already there is 422."
    ),
)
def add_listening_source(request: HttpRequest, payload: SourceIn) -> Status[ListeningSource]:
    ctx = require(request, Scope.LISTENING_WRITE)
    try:
        source = sources.add_source(
            ctx.actor(request),
            ctx.organization,
            kind=payload.kind,
            url=payload.url,
            name=payload.name,
            hashtag=payload.hashtag,
        )
    except ListeningRefused as refused:
        raise refusal(refused, ctx) from None
    return Status(201, source)


@router.patch("/listening/sources/{source_id}", response=SourceOut, summary="Switch a source off or on")
def update_listening_source(
    request: HttpRequest, source_id: ObjectId, payload: SourcePatch
) -> ListeningSource:
    ctx, source = _source(request, Scope.LISTENING_WRITE, source_id)
    if payload.is_active is not None:
        try:
            sources.set_source_active(ctx.actor(request), source, payload.is_active)
        except ListeningRefused as refused:
            raise refusal(refused, ctx) from None
    return ListeningSource.objects.get(pk=source.pk)


@router.delete(
    "/listening/sources/{source_id}",
    response={204: None},
    summary="Stop listening to a source (what it brought in stays)",
)
def delete_listening_source(request: HttpRequest, source_id: ObjectId) -> Status[None]:
    ctx, source = _source(request, Scope.LISTENING_WRITE, source_id)
    try:
        sources.remove_source(ctx.actor(request), source)
    except ListeningRefused as refused:
        raise refusal(refused, ctx) from None
    return Status(204, None)
