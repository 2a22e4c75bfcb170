"""Listen: the brand's saved queries (overview), the query editor with its live check and backtest.

Who: everything here is seen with Perm.VIEW; writing queries and running backtests needs
Perm.MANAGE_LISTENING (the buttons are not shown without it, and a POST gets 403). A query is
looked up within the current organization, so another organization's id is a 404.
The query's own page, its exports and alerts are in listening_query.py; sources in listening_sources.py.
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.analytics.charts import BarChart, bar_chart
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand
from tertulia.core.permissions import Perm
from tertulia.core.zones import zone
from tertulia.listening import insight
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.actions.queries import create_query, delete_query, update_query
from tertulia.listening.backtest import Backtest, backfill, run_backtest
from tertulia.listening.models import ListeningQuery, QueryGroup
from tertulia.listening.query import ParsedQuery, QueryError, parse
from tertulia.listening.query import syntax as s
from tertulia.listening.query.render import children
from tertulia.web.tenant import Tenant
from tertulia.web.views import listening_charts as charts
from tertulia.web.views.sections import section

# --- the period every listening page is read over ----------------------------------------------

PERIODS: dict[str, tuple[timedelta, Promise]] = {
    "24h": (timedelta(hours=24), _lazy("24 hours")),
    "7d": (timedelta(days=7), _lazy("7 days")),
    "30d": (timedelta(days=30), _lazy("30 days")),
    "90d": (timedelta(days=90), _lazy("90 days")),
}
DEFAULT_PERIOD = "7d"
BACKTEST_DAYS = (7, 30, 90)
DEFAULT_BACKTEST_DAYS = 30


def zone_of(brand: Brand | None) -> zoneinfo.ZoneInfo:
    return zone(brand.timezone if brand else None)


@dataclass(frozen=True)
class Chosen:
    key: str
    label: str
    period: insight.Period
    zone: zoneinfo.ZoneInfo


def chosen_period(request: HttpRequest, brand: Brand | None, now: datetime | None = None) -> Chosen:
    """The period in ?period= (24h, 7d, 30d, 90d), aligned to whole hours or days in the brand's zone."""
    key = request.GET.get("period", "")
    if key not in PERIODS:
        key = DEFAULT_PERIOD
    length, label = PERIODS[key]
    zone = zone_of(brand)
    now = now or timezone.now()
    local = now.astimezone(zone)
    if length <= timedelta(days=2):
        since = local.replace(minute=0, second=0, microsecond=0) - (length - timedelta(hours=1))
    else:
        first: date = local.date() - timedelta(days=length.days - 1)
        since = datetime.combine(first, time(0), tzinfo=zone)
    return Chosen(key, str(label), insight.Period(since=since, until=now), zone)


def period_links(chosen: Chosen) -> list[dict[str, Any]]:
    return [{"key": key, "label": label, "current": key == chosen.key} for key, (_, label) in PERIODS.items()]


# --- shared lookups ----------------------------------------------------------------------------


def require_manage(tenant: Tenant) -> None:
    if not tenant.can(Perm.MANAGE_LISTENING):
        raise PermissionDenied


def query_of(tenant: Tenant, query_id: int) -> ListeningQuery:
    return get_object_or_404(tenant.restrict(ListeningQuery.objects.select_related("brand")), pk=query_id)


def field_errors(form: forms.Form) -> dict[str, str]:
    """The first error of each field; the whole form's under "form" (templates cannot read __all__)."""
    return {("form" if field == "__all__" else field): str(found[0]) for field, found in form.errors.items()}


def safe_url(url: str) -> str:
    """A link only to http(s): a feed may carry javascript: or data: addresses."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.hostname else ""


# --- overview ----------------------------------------------------------------------------------


def overview(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """GET /listen/ (sections.listen hands over): the brand's queries by group, share of voice."""
    brand = tenant.brand
    chosen = chosen_period(request, brand)
    groups: list[dict[str, Any]] = []
    voices: list[dict[str, Any]] = []
    if brand is not None:
        queries = list(ListeningQuery.objects.filter(brand=brand).order_by("name"))
        for value, label in QueryGroup.choices:
            rows = []
            for query in (q for q in queries if q.group == value):
                series = insight.volume([query.pk], chosen.period, chosen.zone.key)
                rows.append(
                    {
                        "query": query,
                        "series": series,
                        "spark": charts.sparkline([count for _, count in series]),
                    }
                )
            groups.append({"key": value, "label": label, "rows": rows})
        for voice in insight.share_of_voice(brand, chosen.period):
            voices.append(
                {
                    "query": voice.query,
                    "mentions": voice.mentions,
                    "percent": round(voice.share * 100),
                    "width": round(voice.share * 100, 2),
                }
            )
    return render(
        request,
        "web/listening/overview.html",
        {
            "section": "listen",
            "chosen": chosen,
            "periods": period_links(chosen),
            "groups": groups,
            "voices": voices,
            "voice_total": sum(v["mentions"] for v in voices),
            "competitors": list(brand.competitors.all()) if brand else [],
            "can_manage": tenant.can(Perm.MANAGE_LISTENING),
        },
    )


# --- the query editor ----------------------------------------------------------------------------


class QueryForm(forms.Form):
    """Only types and null characters here: the listening actions say what else is wrong, per field."""

    name = forms.CharField(required=False)
    group = forms.CharField(required=False)
    text = forms.CharField(required=False, strip=False)
    is_active = forms.BooleanField(required=False)
    version = forms.IntegerField(required=False, min_value=0, max_value=2**31)
    days = forms.TypedChoiceField(
        choices=[(str(days), str(days)) for days in BACKTEST_DAYS],
        coerce=int,
        required=False,
        empty_value=None,
    )


@dataclass(frozen=True)
class Caret:
    """Where a query goes wrong, for a <pre>: the line (cut around the spot) and carets under it."""

    line: int
    column: int
    before: str
    bad: str
    after: str
    pad: str
    marks: str


# Invisible or direction-changing characters would hide the problem or move the caret: shown as ◌.
_INVISIBLE = {"Cf", "Cc", "Zl", "Zp"}
_CONTEXT = 40


def _visible(text: str) -> str:
    return "".join(
        " " if char == "\t" else "◌" if unicodedata.category(char) in _INVISIBLE else char for char in text
    )


def caret(text: str, position: int, length: int) -> Caret:
    position = max(0, min(position, len(text)))
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    line = text[line_start : line_end if line_end != -1 else len(text)]
    column = position - line_start
    width = max(min(length, len(line) - column), 1)
    cut = max(0, column - _CONTEXT)
    end = min(len(line), column + width + _CONTEXT)
    before = ("…" if cut else "") + line[cut:column]
    after = line[column + width : end] + ("…" if end < len(line) else "")
    bad = line[column : column + width]
    return Caret(
        line=text.count("\n", 0, position) + 1,
        column=column + 1,
        before=_visible(before),
        bad=_visible(bad),
        after=_visible(after),
        pad=" " * len(before),
        marks="^" * width,
    )


def _label(node: s.Node) -> str:
    if isinstance(node, s.Words):
        words = " ".join(pattern.text for pattern in node.patterns)
        if len(node.patterns) > 1 or node.quoted:
            return _("phrase “%(words)s”") % {"words": words}
        return _("word %(word)s") % {"word": words}
    if isinstance(node, s.Tagged):
        if node.tag is s.Tag.HASHTAG:
            return _("hashtag #%(tag)s") % {"tag": node.pattern.text}
        return _("mention @%(handle)s") % {"handle": node.pattern.text}
    if isinstance(node, s.FieldIs):
        return f"{node.field.value}: {node.pattern.text}"
    if isinstance(node, s.Followers):
        return _("followers %(comparison)s %(count)s") % {
            "comparison": node.comparison.value,
            "count": f"{node.count:,}",
        }
    if isinstance(node, s.Near):
        if node.ordered:
            return _("NEAR/%(n)s: at most %(n)s words apart, in this order") % {"n": node.distance}
        return _("NEAR/%(n)s: at most %(n)s words apart") % {"n": node.distance}
    if isinstance(node, s.Not):
        return _("NOT: leave out")
    if isinstance(node, s.And):
        return _("AND: all of")
    return _("OR: any of")


def outline(node: s.Node) -> list[str]:
    """The parsed query as an indented tree, one line per node (iterative: queries nest 32 deep)."""
    lines: list[str] = []
    stack: list[tuple[s.Node, str, str]] = [(node, "", "")]
    while stack:
        current, prefix, branch = stack.pop()
        lines.append(f"{prefix}{branch}{_label(current)}")
        below = children(current)
        inner = prefix + ("" if not branch else "   " if branch == "└─ " else "│  ")
        for index in range(len(below) - 1, -1, -1):
            stack.append((below[index], inner, "└─ " if index == len(below) - 1 else "├─ "))
    return lines


def check_context(text: str) -> dict[str, Any]:
    """What the live check shows for `text`: the outline and warnings, or the error and where it is."""
    if not text.strip():
        return {"empty": True}
    try:
        parsed = parse(text)
    except QueryError as error:
        return {
            "error": error.message,
            "code": error.code,
            "where": caret(text, error.position, error.length),
        }
    return {
        "parsed": parsed,
        "outline": "\n".join(outline(parsed.root)),
        "warnings": [
            {"message": warning.message, "where": caret(text, warning.position, 1)}
            for warning in parsed.warnings
        ],
    }


@section("listen", write=Perm.MANAGE_LISTENING)
@require_POST
def query_check(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """POST /listen/queries/check/: the live check as the query is typed (htmx swaps it in); saves nothing."""
    require_manage(tenant)
    form = QueryForm(request.POST)
    form.is_valid()
    if "text" in form.errors:
        context: dict[str, Any] = {"error": form.errors["text"][0]}
    else:
        context = check_context(form.cleaned_data.get("text") or "")
    return render(request, "web/listening/check.html", {"check": context})


@dataclass(frozen=True)
class BacktestView:
    result: Backtest
    days: int
    chart: BarChart
    sample: list[dict[str, Any]]
    can_backfill: bool


def backtest_view(
    result: Backtest, days: int, since: datetime, zone: zoneinfo.ZoneInfo, can_backfill: bool
) -> BacktestView:
    # run_backtest counted by days in the brand's time zone: so are the bars.
    first = since.astimezone(zone).date()
    last = timezone.now().astimezone(zone).date()
    series = [(day, result.by_day.get(day, 0)) for day in charts.days_between(min(first, last), last)]
    sample = [
        {
            "text": item.text[:1_000],
            "author": item.author_handle,
            "network": item.network,
            "published_at": item.published_at,
            "url": safe_url(item.url),
            "channel": item.channel_name,
        }
        for item in result.sample
    ]
    return BacktestView(result, days, bar_chart(series), sample, can_backfill)


def _initial(query: ListeningQuery | None, request: HttpRequest) -> dict[str, Any]:
    if query is None:
        group = request.GET.get("group", "")
        return {
            "name": "",
            "group": group if group in QueryGroup.values else QueryGroup.BRAND,
            "text": "",
            "is_active": True,
            "version": "",
            "days": DEFAULT_BACKTEST_DAYS,
        }
    return {
        "name": query.name,
        "group": query.group,
        "text": query.text,
        "is_active": query.is_active,
        "version": query.version,
        "days": DEFAULT_BACKTEST_DAYS,
    }


def _editor(request: HttpRequest, tenant: Tenant, query: ListeningQuery | None) -> HttpResponse:
    require_manage(tenant)
    brand = query.brand if query is not None else tenant.brand
    if brand is None:
        return render(request, "web/listening/no_brand.html", {"section": "listen"}, status=404)
    values = _initial(query, request)
    errors: dict[str, str] = {}
    text_error: dict[str, Any] | None = None
    backtest: BacktestView | None = None
    backtest_error = False
    status = 200
    if request.method == "POST":
        form = QueryForm(request.POST)
        valid = form.is_valid()
        data = form.cleaned_data if valid else {}
        values = {
            "name": request.POST.get("name", "")[:500],
            "group": request.POST.get("group", ""),
            "text": data.get("text", request.POST.get("text", "").replace("\x00", "")),
            "is_active": bool(request.POST.get("is_active")),
            "version": request.POST.get("version", "")[:12],
            "days": data.get("days") or DEFAULT_BACKTEST_DAYS,
        }
        if not valid:
            errors = field_errors(form)
            status = 400
        elif request.POST.get("action") == "backtest":
            parsed, text_error = _parse_for(values["text"])
            if parsed is not None:
                days = int(data.get("days") or DEFAULT_BACKTEST_DAYS)
                since = timezone.now() - timedelta(days=days)
                result = run_backtest(parsed, brand.organization_id, since, zone_of(brand))
                same_as_saved = query is not None and query.text == values["text"]
                backtest = backtest_view(result, days, since, zone_of(brand), same_as_saved)
            else:
                backtest_error = True  # 200 all the same: htmx swaps only successful responses
        else:
            actor = Actor.from_request(request)
            try:
                if query is None:
                    saved = create_query(
                        actor,
                        brand,
                        name=data["name"],
                        text=data["text"],
                        group=data["group"],
                        is_active=data["is_active"],
                    )
                    messages.success(request, _("Query saved. It listens from now on."))
                else:
                    version = data.get("version")
                    saved = update_query(
                        actor,
                        query,
                        version=version if version is not None else -1,
                        name=data["name"],
                        text=data["text"],
                        group=data["group"],
                        is_active=data["is_active"],
                    )
                    messages.success(request, _("Query saved."))
            except ListeningRefused as refused:
                status = 400
                if refused.error is not None:
                    text_error = _error_context(values["text"], refused.error)
                else:
                    errors[refused.field if refused.field in QueryForm.base_fields else "form"] = (
                        refused.message
                    )
            else:
                return redirect("web:listen-query", query_id=saved.pk)
    live = check_context(values["text"]) if text_error is None and values["text"] else None
    return render(
        request,
        "web/listening/editor.html",
        {
            "section": "listen",
            "query": query,
            "brand": brand,
            "values": values,
            "errors": errors,
            "check": text_error or live or {"empty": True},
            "groups": QueryGroup.choices,
            "backtest_days": BACKTEST_DAYS,
            "backtest": backtest,
            "backtest_error": backtest_error,
        },
        status=status,
    )


def _error_context(text: str, error: QueryError) -> dict[str, Any]:
    return {"error": error.message, "code": error.code, "where": caret(text, error.position, error.length)}


def _parse_for(text: str) -> tuple[ParsedQuery | None, dict[str, Any] | None]:
    try:
        return parse(text), None
    except QueryError as error:
        return None, _error_context(text, error)


@section("listen", write=Perm.MANAGE_LISTENING)
@require_http_methods(["GET", "POST"])
def query_new(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """GET/POST /listen/queries/new/: write a query, check it, backtest it, save it."""
    return _editor(request, tenant, None)


@section("listen", write=Perm.MANAGE_LISTENING)
@require_http_methods(["GET", "POST"])
def query_edit(request: HttpRequest, tenant: Tenant, query_id: int) -> HttpResponse:
    """GET/POST /listen/queries/<id>/edit/: the same editor; saving checks the version read."""
    return _editor(request, tenant, query_of(tenant, query_id))


@section("listen", write=Perm.MANAGE_LISTENING)
@require_http_methods(["GET", "POST"])
def query_delete(request: HttpRequest, tenant: Tenant, query_id: int) -> HttpResponse:
    """GET: are you sure? POST: delete the query and its matches (mentions stay)."""
    require_manage(tenant)
    query = query_of(tenant, query_id)
    if request.method == "POST":
        try:
            delete_query(Actor.from_request(request), query)
        except ListeningRefused as refused:
            messages.error(request, refused.message)
            return redirect("web:listen-query", query_id=query.pk)
        messages.success(request, _("Query “%(name)s” deleted.") % {"name": query.name})
        return redirect("web:listen")
    return render(
        request,
        "web/listening/delete.html",
        {"section": "listen", "query": query, "matches": query.matches.count()},
    )


@section("listen", write=Perm.MANAGE_LISTENING)
@require_POST
def query_backfill(request: HttpRequest, tenant: Tenant, query_id: int) -> HttpResponse:
    """POST /listen/queries/<id>/backfill/: link what the saved query finds in stored history to it."""
    require_manage(tenant)
    query = query_of(tenant, query_id)
    form = QueryForm(request.POST)
    days = (form.cleaned_data.get("days") if form.is_valid() else None) or DEFAULT_BACKTEST_DAYS
    try:
        parsed = parse(query.text)
    except QueryError as error:
        messages.error(request, _("The saved query does not parse: %(error)s") % {"error": error.message})
        return redirect("web:listen-query-edit", query_id=query.pk)
    try:
        added = backfill(
            Actor.from_request(request), query, parsed, timezone.now() - timedelta(days=int(days))
        )
    except ListeningRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s mention from the last %(days)s days added to the query.",
                "%(count)s mentions from the last %(days)s days added to the query.",
                added,
            )
            % {"count": added, "days": days},
        )
    return redirect("web:listen-query", query_id=query.pk)
