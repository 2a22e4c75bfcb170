"""A listening query's own page: volume, sentiment, authors, rising terms, the latest mentions, CSV
exports, and its alerts. Seen with Perm.VIEW; alerts are changed with Perm.MANAGE_LISTENING.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tertulia.analytics.charts import bar_chart
from tertulia.core.actions.context import Actor
from tertulia.core.csvsafe import csv_lines
from tertulia.core.models import User
from tertulia.core.permissions import Perm
from tertulia.inbox.models import Sentiment
from tertulia.listening import insight
from tertulia.listening.actions.alerts import create_alert, delete_alert
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.models import AlertEvent, AlertKind, ListeningQuery, Mention, QueryAlert
from tertulia.web.tenant import Tenant
from tertulia.web.views import listening_charts as charts
from tertulia.web.views.listening import (
    Chosen,
    chosen_period,
    field_errors,
    period_links,
    query_of,
    require_manage,
    safe_url,
)
from tertulia.web.views.sections import View, section

MENTIONS_PER_PAGE = 25
EVENTS_SHOWN = 20
SENTIMENT_ORDER = (Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE)


def members_of(query: ListeningQuery) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True,
            memberships__organization_id=query.organization_id,
            memberships__is_active=True,
        ).order_by("email")
    )


class AlertForm(forms.Form):
    kind = forms.CharField(required=False)
    threshold = forms.IntegerField(min_value=0, max_value=10_000_000)
    window_minutes = forms.IntegerField(min_value=5, max_value=7 * 24 * 60)
    minimum_mentions = forms.IntegerField(min_value=1, max_value=10_000_000)
    recipients = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, data: Any, *, members: list[User]) -> None:
        super().__init__(data)
        recipients = self.fields["recipients"]
        assert isinstance(recipients, forms.TypedMultipleChoiceField)
        recipients.choices = [(user.pk, str(user)) for user in members]


def _mentions(query: ListeningQuery, chosen: Chosen) -> QuerySet[Mention]:
    return Mention.objects.filter(
        matches__query=query,
        matches__published_at__gte=chosen.period.since,
        matches__published_at__lt=chosen.period.until,
    ).order_by("-published_at", "-id")


def _page(
    request: HttpRequest,
    tenant: Tenant,
    query: ListeningQuery,
    *,
    alert_values: dict[str, Any] | None = None,
    alert_errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    chosen = chosen_period(request, query.brand)
    ids = [query.pk]
    series = insight.volume(ids, chosen.period, chosen.zone.key)
    counts = insight.sentiment_share(ids, chosen.period)
    labels = dict(Sentiment.choices)
    sentiment = charts.shares([(key, str(labels[key]), counts.get(key, 0)) for key in SENTIMENT_ORDER])
    page = Paginator(_mentions(query, chosen), MENTIONS_PER_PAGE).get_page(request.GET.get("page"))
    for mention in page.object_list:
        mention.safe_url = safe_url(mention.url)  # for the template
    members = members_of(query)
    return render(
        request,
        "web/listening/query.html",
        {
            "section": "listen",
            "query": query,
            "chosen": chosen,
            "periods": period_links(chosen),
            "hourly": chosen.period.hourly,
            "volume": series,
            "chart": bar_chart(series),
            "sentiment": sentiment,
            "sentiment_total": sum(share.count for share in sentiment),
            "authors": insight.top_authors(ids, chosen.period),
            "terms": insight.rising_terms(
                ids, chosen.period.until, chosen.period.until - chosen.period.since
            ),
            "mentions": page,
            "alerts": list(query.alerts.prefetch_related("recipients").order_by("created_at")),
            "events": list(
                AlertEvent.objects.filter(alert__query=query).select_related("alert")[:EVENTS_SHOWN]
            ),
            "alert_kinds": AlertKind.choices,
            "members": members,
            "alert_values": alert_values
            or {
                "kind": AlertKind.VOLUME,
                "threshold": "",
                "window_minutes": 60,
                "minimum_mentions": 10,
                "recipients": [request.user.pk],
            },
            "alert_errors": alert_errors or {},
            "can_manage": tenant.can(Perm.MANAGE_LISTENING),
        },
        status=status,
    )


@section("listen")
@require_GET
def query_page(request: HttpRequest, tenant: Tenant, query_id: int) -> HttpResponse:
    """GET /listen/queries/<id>/?period=7d&page=2"""
    return _page(request, tenant, query_of(tenant, query_id))


# --- CSV -----------------------------------------------------------------------------------------

_csv_rows = csv_lines


def _filename(query: ListeningQuery, what: str, chosen: Chosen) -> str:
    return f"listening-{query.pk}-{what}-{chosen.key}.csv"


def _mentions_csv(request: HttpRequest, tenant: Tenant, query_id: int) -> StreamingHttpResponse:
    """GET /listen/queries/<id>/mentions.csv?period=30d: every mention in the period, streamed."""
    query = query_of(tenant, query_id)
    chosen = chosen_period(request, query.brand)
    zone = chosen.zone
    rows = (
        (
            mention.published_at.astimezone(zone).isoformat(),
            mention.network,
            mention.author_handle,
            mention.author_name,
            mention.author_followers,
            mention.language,
            mention.sentiment,
            mention.intent,
            mention.url,
            mention.text,
        )
        for mention in _mentions(query, chosen).iterator(chunk_size=2_000)
    )
    header = [
        _("Published"),
        _("Network"),
        _("Author"),
        _("Author's name"),
        _("Followers"),
        _("Language"),
        _("Sentiment"),
        _("Intent"),
        _("Address"),
        _("Text"),
    ]
    response = StreamingHttpResponse(_csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(query, "mentions", chosen)}"'
    response["Cache-Control"] = "no-store"
    return response


def _volume_csv(request: HttpRequest, tenant: Tenant, query_id: int) -> StreamingHttpResponse:
    """GET /listen/queries/<id>/volume.csv?period=30d: mentions per hour or day in the brand's zone."""
    query = query_of(tenant, query_id)
    chosen = chosen_period(request, query.brand)
    series = insight.volume([query.pk], chosen.period, chosen.zone.key)
    header = [_("Hour") if chosen.period.hourly else _("Day"), _("Mentions")]
    rows = (
        (when.isoformat(timespec="minutes") if chosen.period.hourly else when.date().isoformat(), count)
        for when, count in series
    )
    response = StreamingHttpResponse(_csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(query, "volume", chosen)}"'
    response["Cache-Control"] = "no-store"
    return response


# `section` is typed for HttpResponse; a streamed response is as good to Django.
mentions_csv = section("listen")(require_GET(cast("View", _mentions_csv)))
volume_csv = section("listen")(require_GET(cast("View", _volume_csv)))


# --- alerts --------------------------------------------------------------------------------------


@section("listen", write=Perm.MANAGE_LISTENING)
@require_POST
def alert_create(request: HttpRequest, tenant: Tenant, query_id: int) -> HttpResponse:
    """POST /listen/queries/<id>/alerts/"""
    require_manage(tenant)
    query = query_of(tenant, query_id)
    members = members_of(query)
    form = AlertForm(request.POST, members=members)
    values = {
        "kind": request.POST.get("kind", "")[:32],
        "threshold": request.POST.get("threshold", "")[:20],
        "window_minutes": request.POST.get("window_minutes", "")[:20],
        "minimum_mentions": request.POST.get("minimum_mentions", "")[:20],
        "recipients": [int(v) for v in request.POST.getlist("recipients") if v.isdigit() and len(v) < 12],
    }
    if not form.is_valid():
        errors = field_errors(form)
        return _page(request, tenant, query, alert_values=values, alert_errors=errors, status=400)
    data = form.cleaned_data
    chosen = {user.pk: user for user in members}
    try:
        create_alert(
            Actor.from_request(request),
            query,
            kind=data["kind"],
            threshold=data["threshold"],
            window_minutes=data["window_minutes"],
            minimum_mentions=data["minimum_mentions"],
            recipients=[chosen[pk] for pk in data["recipients"] if pk in chosen],
        )
    except ListeningRefused as refused:
        field = refused.field if refused.field in AlertForm.base_fields else "form"
        return _page(
            request, tenant, query, alert_values=values, alert_errors={field: refused.message}, status=400
        )
    messages.success(request, _("Alert added."))
    return redirect(f"{_query_url(query)}#alerts")


@section("listen", write=Perm.MANAGE_LISTENING)
@require_POST
def alert_delete(request: HttpRequest, tenant: Tenant, alert_id: int) -> HttpResponse:
    """POST /listen/alerts/<id>/delete/"""
    require_manage(tenant)
    alert = get_object_or_404(
        tenant.restrict(
            QueryAlert.objects.select_related("query", "query__organization"), brand_path="query__brand"
        ),
        pk=alert_id,
    )
    query = alert.query
    try:
        delete_alert(Actor.from_request(request), alert)
    except ListeningRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Alert deleted."))
    return redirect(f"{_query_url(query)}#alerts")


def _query_url(query: ListeningQuery) -> str:
    return reverse("web:listen-query", kwargs={"query_id": query.pk})
