"""Team → Workload: each person's load over 7, 30 or 90 days with its overload signals, and the CSV
(docs/team-operations.md#workload).

Every member may open it and sees their own row; owners and administrators see everybody, brand
managers the people of the brands they manage (tertulia.teamops.workload.scope_for). Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tertulia.analytics.periods import Period
from tertulia.core.csvsafe import csv_lines
from tertulia.core.models import Organization
from tertulia.teamops import workload as load
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import View, section


def _columns() -> list[tuple[str, str]]:
    """The table's sortable columns: (the `?sort=` name, the heading)."""
    return [
        ("name", _("Person")),
        ("conversations", _("Conversations")),
        ("replies", _("Replies")),
        ("pace", _("Replies per day worked")),
        ("after_hours", _("After hours")),
        ("weekend", _("Weekends")),
        ("streak", _("Days in a row")),
        ("pages", _("Crisis pages")),
        ("on_call", _("Hours on call")),
        ("open", _("Open now")),
        ("signals", _("Signals")),
    ]


@dataclass(frozen=True)
class Heading:
    key: str
    label: str
    href: str
    aria_sort: str  # "ascending", "descending" or "none"


def _headings(days: int, sort: str, flipped: bool, person: int | None) -> list[Heading]:
    found = []
    for key, label in _columns():
        current = key == sort
        # Names read A to Z, figures most first; the sorted column's link turns it round.
        wanted = f"-{key}" if current and not flipped else key
        query = {"days": days, "sort": wanted, **({"person": person} if person else {})}
        ascending = (key == "name") != flipped
        state = ("ascending" if ascending else "descending") if current else "none"
        found.append(Heading(key, label, "?" + urlencode(query), state))
    return found


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


def _rows(
    request: HttpRequest, tenant: Tenant
) -> tuple[load.Scope, Period, load.Report, str, bool, int | None]:
    scope = load.scope_for(signed_in_user(request), _org(tenant))
    calendars = load.calendars_of(scope)  # read once: the period ends on the viewer's today
    period = load.period_of(request.GET.get("days"), load.today_for(scope, calendars=calendars))
    found = load.report(scope, period, calendars=calendars)
    person: int | None = None
    raw = request.GET.get("person", "").strip()
    if raw:
        try:
            person = int(raw)
        except ValueError:
            raise Http404 from None
        if person not in scope.shown:
            raise Http404  # another organization's person, or one this viewer may not see
        found.rows = [row for row in found.rows if row.user.pk == person]
    sort, flipped = load.parse_sort(request.GET.get("sort"))
    found.rows = load.sort_loads(found.rows, sort, flipped)
    return scope, period, found, sort, flipped, person


@section("team")
@require_GET
def workload_page(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    scope, period, found, sort, flipped, person = _rows(request, tenant)
    return render(
        request,
        "web/workload/workload.html",
        {
            "section": "team",
            "rows": found.rows,
            "median": found.median,
            "scope": scope,
            "period": period,
            "days": period.days,
            "periods": load.PERIODS,
            "sort": sort,
            "flipped": flipped,
            "headings": _headings(period.days, sort, flipped, person),
            "person": person,
            "gaps": load.channel_gaps(scope) if scope.everybody else [],
            "has_on_call": any(row.on_call_hours is not None for row in found.rows),
            "thresholds": {
                "pace": load.PACE_FACTOR,
                "peers": load.MIN_PEERS,
                "after_hours": load.AFTER_HOURS_PERCENT,
                "min_replies": load.MIN_REPLIES_FOR_SHARE,
                "streak": load.STREAK_DAYS,
                "weekends": load.WEEKENDS_IN_A_ROW,
                "night_pages": load.NIGHT_PAGES_PER_WEEK,
            },
        },
    )


def _workload_csv(request: HttpRequest, tenant: Tenant) -> StreamingHttpResponse:
    """GET /team/workload.csv?days=&sort=&person=: the page's rows, streamed."""
    _scope, _period, found, _sort, _flipped, _person = _rows(request, tenant)
    # csv_lines defuses cells a spreadsheet would run as formulas (=, +, -, @...), names included.
    # Built now, in the request's language: the stream is read after the view returns.
    lines = csv_lines(load.csv_header(), list(load.csv_values(found.rows)))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="workload-{_org(tenant).pk}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


workload_csv = section("team")(require_GET(cast("View", _workload_csv)))
