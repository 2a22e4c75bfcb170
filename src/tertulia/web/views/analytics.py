"""The analytics dashboards and their CSV exports (docs/analytics.md). Thin: read figures, render."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from tertulia.analytics import dashboards
from tertulia.analytics.charts import bar_chart, line_chart
from tertulia.analytics.figures import Figures, figures
from tertulia.analytics.objectives import progress
from tertulia.analytics.periods import PRESETS, BadPeriod, Period, from_params, last_days
from tertulia.analytics.rollup import local_day
from tertulia.core.csvsafe import csv_lines
from tertulia.core.models import Channel, User
from tertulia.core.permissions import Perm, has_perm
from tertulia.inbox import sla_report
from tertulia.listening.models import QueryGroup
from tertulia.web.tenant import Tenant
from tertulia.web.views.sections import View, section


def _period(request: HttpRequest, tenant: Tenant) -> Period:
    assert tenant.brand is not None
    today = local_day(tenant.brand, timezone.now())
    try:
        return from_params(request.GET, today)
    except BadPeriod as error:
        messages.error(request, str(error))
        return last_days(30, today)


def _channel_ids(request: HttpRequest) -> list[int] | None:
    wanted = [int(v) for v in request.GET.getlist("channel") if v.isascii() and v.isdigit() and len(v) < 12]
    return wanted or None


def _people_shown(request: HttpRequest, tenant: Tenant) -> AbstractSet[int] | None:
    """Everybody's row for those who manage the brand's people; else only the viewer's own."""
    assert tenant.organization is not None and tenant.brand is not None
    user = cast(User, request.user)  # `section` let only signed-in members through
    if has_perm(user, tenant.organization, Perm.MANAGE_MEMBERS) or has_perm(
        user, tenant.organization, Perm.MANAGE_BRANDS, tenant.brand
    ):
        return None
    return frozenset({user.pk})


def _context(request: HttpRequest, tenant: Tenant, page: str) -> dict[str, Any]:
    context: dict[str, Any] = {"section": "analytics", "page": page, "presets": PRESETS}
    if tenant.brand is None:
        return context
    period = _period(request, tenant)
    channel_ids = _channel_ids(request)
    current = figures(tenant.brand, period, channel_ids)
    previous = figures(tenant.brand, period.previous(), channel_ids)
    query = request.GET.copy()
    query.pop("table", None)
    context.update(
        period=period,
        previous_period=period.previous(),
        fig=current,
        previous=previous,
        tiles=dashboards.tiles(current, previous),
        brand_channels=list(Channel.objects.filter(brand=tenant.brand).order_by("network", "handle")),
        chosen_channels=current.channel_ids or [],
        query=query.urlencode(),
        custom=("from" in request.GET or "to" in request.GET),
    )
    return context


def _render(request: HttpRequest, page: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, f"web/analytics/{page}.html", context)


@section("analytics")
@require_safe
def overview(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    context = _context(request, tenant, "overview")
    if tenant.brand is not None:
        today = local_day(tenant.brand, timezone.now())
        context["progress"] = progress(tenant.brand.objectives.all(), today)
        fig: Figures = context["fig"]
        context["activity_chart"] = bar_chart(
            [(d, int(v or 0)) for d, v in dashboards.daily(fig, lambda t: t.messages_in).items()]
        )
    return _render(request, "overview", context)


@section("analytics")
@require_safe
def publishing(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    context = _context(request, tenant, "publishing")
    if tenant.brand is not None:
        fig: Figures = context["fig"]
        context["posts_chart"] = bar_chart(
            [(d, int(v or 0)) for d, v in dashboards.daily(fig, lambda t: t.posts_published).items()]
        )
        context["engagement_chart"] = bar_chart(
            [(d, int(v or 0)) for d, v in dashboards.daily(fig, lambda t: t.engagements).items()]
        )
        context["tables"] = [dashboards.posts_table(fig), dashboards.channels_table(fig)]
    return _render(request, "publishing", context)


@section("analytics")
@require_safe
def inbox(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    context = _context(request, tenant, "inbox")
    if tenant.brand is not None:
        fig: Figures = context["fig"]
        dates = fig.period.dates()
        context["volume_chart"] = bar_chart(
            [(d, int(v or 0)) for d, v in dashboards.daily(fig, lambda t: t.messages_in).items()]
        )
        context["response_chart"] = line_chart(
            dates,
            [
                (
                    _("Median first response (minutes)"),
                    "line-a",
                    dashboards.daily(fig, dashboards.first_response_median),
                )
            ],
        )
        context["sla_chart"] = line_chart(
            dates, [(_("SLA met (%)"), "line-b", dashboards.daily(fig, lambda t: t.sla_met_percent))], top=100
        )
        context["tables"] = [
            dashboards.channels_table(fig),
            dashboards.people_table(fig, _people_shown(request, tenant)),
        ]
        # The live SLA report (open clocks, breakdowns by stage and intent), as the inbox settings link to it.
        sla_days = sla_report.period_days(request.GET.get("days"))
        sla = sla_report.report_for_last(tenant.brand, sla_days)
        objectives = list(tenant.brand.objectives.all())
        context.update(
            sla=sla,
            sla_days=sla_days,
            sla_periods=sla_report.PERIODS,
            sla_objectives=sla_report.objective_progress(objectives, sla),
        )
    return _render(request, "inbox", context)


@section("analytics")
@require_safe
def listening(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    context = _context(request, tenant, "listening")
    if tenant.brand is not None:
        fig: Figures = context["fig"]
        dates = fig.period.dates()
        context["mentions_chart"] = line_chart(
            dates,
            [
                (
                    _("Brand mentions"),
                    "line-a",
                    {d: fig.mentions_by_day.get(d, {}).get(QueryGroup.BRAND, 0) for d in dates},
                ),
                (
                    _("Competitor mentions"),
                    "line-b",
                    {d: fig.mentions_by_day.get(d, {}).get(QueryGroup.COMPETITOR, 0) for d in dates},
                ),
            ],
        )
        positive, neutral, negative = fig.mention_sentiment
        context["sentiment"] = {"positive": positive, "neutral": neutral, "negative": negative}
        context["tables"] = [dashboards.queries_table(fig)]
    return _render(request, "listening", context)


@section("analytics")
@require_safe
def audience(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    context = _context(request, tenant, "audience")
    if tenant.brand is not None:
        fig: Figures = context["fig"]
        dates = fig.period.dates()
        context["followers_chart"] = line_chart(dates, [(_("Followers"), "line-a", fig.followers_by_day())])
        context["tables"] = [dashboards.audience_table(fig)]
    return _render(request, "audience", context)


def _export_csv(request: HttpRequest, tenant: Tenant, table: str) -> StreamingHttpResponse:
    """Any table of the dashboards as CSV, for the same brand, period and channels."""
    if tenant.brand is None or (table not in dashboards.FIG_TABLES and table != "objectives"):
        raise Http404
    if table == "objectives":
        today = local_day(tenant.brand, timezone.now())
        data = dashboards.objectives_table(progress(tenant.brand.objectives.all(), today))
        period_name = today.isoformat()
    else:
        period = _period(request, tenant)
        fig = figures(tenant.brand, period, _channel_ids(request))
        if table == "people":
            data = dashboards.people_table(fig, _people_shown(request, tenant))
        else:
            data = dashboards.FIG_TABLES[table](fig)
        period_name = f"{period.first.isoformat()}_{period.last.isoformat()}"
    lines = csv_lines([str(h) for h in data.header], data.rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="tertulia-{data.slug}-{period_name}.csv"'
    response["Cache-Control"] = "no-store"
    return response


export_csv = section("analytics")(require_safe(cast("View", _export_csv)))
