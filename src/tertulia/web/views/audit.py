"""Settings → Audit trail: the organization's entries, filtered and paginated, a CSV of the filtered
list, and a check of the organization's hash chain (docs/audit.md)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from tertulia.core import audit_chain
from tertulia.core.actions.audit import iter_entries, record, verify
from tertulia.core.actions.context import Actor
from tertulia.core.audit_areas import area_choices, area_label, area_of
from tertulia.core.audit_query import NO_PERSON, AuditFilters, filtered
from tertulia.core.csvsafe import csv_lines
from tertulia.core.models import Membership
from tertulia.core.models.audit import Via
from tertulia.core.permissions import Perm
from tertulia.web.tenant import Tenant
from tertulia.web.views.sections import View, section

PER_PAGE = 50
LONG_VALUE = 300  # characters of a value shown before "…" (the full value is in the CSV)


class AuditFilterForm(forms.Form):
    person = forms.ChoiceField(label=_lazy("Person"), required=False)
    area = forms.ChoiceField(label=_lazy("Area"), required=False)
    action = forms.CharField(
        label=_lazy("Action"),
        required=False,
        max_length=64,
        help_text=_lazy("A name such as post.approved, or the start of one ending in a dot: post."),
    )
    object = forms.CharField(label=_lazy("Object"), required=False, max_length=255)
    object_type = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    object_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    since = forms.DateField(
        label=_lazy("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    via = forms.ChoiceField(label=_lazy("From where"), required=False)

    def __init__(self, data: Any, people: list[tuple[str, str]]) -> None:
        super().__init__(data)
        choices: dict[str, list[tuple[Any, Any]]] = {
            "person": [("", _("Everyone")), *people, (NO_PERSON, _("No person (system, deleted)"))],
            "area": [("", _("All areas")), *area_choices()],
            "via": [("", _("Anywhere")), *Via.choices],
        }
        for name, options in choices.items():
            cast(forms.ChoiceField, self.fields[name]).choices = options

    def filters(self) -> AuditFilters:
        """What was valid of the filters (an invalid one is shown with its error and ignored)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        person = data.get("person") or None
        return AuditFilters(
            person=person if person in (None, NO_PERSON) else int(str(person)),
            area=data.get("area") or "",
            action=data.get("action") or "",
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            object_text=data.get("object") or "",
            since=_day_start(since) if since else None,
            until=_day_start(until + timedelta(days=1)) if until else None,
            via=data.get("via") or "",
        )


def _day_start(day: date) -> datetime:
    """Midnight of `day` where the reader is (their active time zone)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _people(tenant: Tenant) -> list[tuple[str, str]]:
    members = Membership.objects.filter(organization=tenant.organization).select_related("user")
    return sorted(((str(m.user_id), m.user.email) for m in members), key=lambda choice: choice[1].casefold())


def _form(request: HttpRequest, tenant: Tenant) -> AuditFilterForm:
    return AuditFilterForm(request.GET, _people(tenant))


def show(value: Any) -> str:
    """A recorded value in words: "—" for nothing, lists joined, long text cut."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list) and all(not isinstance(v, list | dict) for v in value):
        text = ", ".join(show(v) for v in value) if value else "—"
    elif isinstance(value, list | dict):
        text = audit_chain.canonical_json(value)
    else:
        text = str(value)
    return text if len(text) <= LONG_VALUE else text[:LONG_VALUE] + "…"


def readable_changes(changes: Any) -> list[dict[str, str]]:
    """`{field: [old, new]}` as "field: old → new"; any other value as "field: value"."""
    if not isinstance(changes, dict):
        return [{"field": "", "value": show(changes)}]
    rows = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            old, new = value
            if old in (None, "", []) or show(old) == show(new):
                rows.append({"field": str(field), "value": show(new)})
            else:
                rows.append({"field": str(field), "old": show(old), "new": show(new)})
        else:
            rows.append({"field": str(field), "value": show(value)})
    return rows


def _page(request: HttpRequest, tenant: Tenant, **extra: Any) -> HttpResponse:
    form = _form(request, tenant)
    filters = form.filters()
    assert tenant.organization is not None  # the section decorator guarantees it
    entries = filtered(tenant.organization, filters).select_related("actor")
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    rows = [
        {
            "entry": entry,
            "area": area_label(area_of(entry.action)),
            "changes": readable_changes(entry.changes),
        }
        for entry in page
    ]
    context = {
        "section": "settings",
        "form": form,
        "filtering": filters.active(),
        "page": page,
        "rows": rows,
        "filter_query": query.urlencode(),
        **extra,
    }
    return render(request, "web/audit.html", context)


@section("settings", Perm.VIEW_AUDIT)
@require_GET
def audit_page(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """GET /settings/audit/?person=&area=&action=&object=&since=&until=&via=&page="""
    return _page(request, tenant)


def _audit_csv(request: HttpRequest, tenant: Tenant) -> StreamingHttpResponse:
    """GET /settings/audit/export.csv?<the page's filters>: the whole filtered list, with hashes."""
    form = _form(request, tenant)
    filters = form.filters()
    organization = tenant.organization
    assert organization is not None  # section() guarantees it
    record(
        Actor.from_request(request),
        organization,
        "audit.exported",
        organization,
        {"format": [None, "csv"], "filters": [None, {k: str(v) for k, v in filters.query_string().items()}]},
    )
    entries = filtered(organization, filters)
    rows = (audit_chain.csv_values(entry) for entry in iter_entries(entries))
    response = StreamingHttpResponse(
        csv_lines(audit_chain.EXPORT_FIELDS, rows, reversible=True), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{organization.slug}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# `section` is typed for HttpResponse; a streamed response is as good to Django.
audit_csv = section("settings", Perm.VIEW_AUDIT)(require_GET(cast("View", _audit_csv)))


@section("settings", Perm.VIEW_AUDIT)
@require_POST
def audit_verify(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """POST /settings/audit/verify/: walk the organization's chain; htmx swaps the result in."""
    (report,) = verify(tenant.organization)
    if request.headers.get("HX-Request") == "true":
        return render(request, "web/partials/audit_verify.html", {"report": report})
    return _page(request, tenant, report=report)
