"""Scheduled reports in the web app (docs/reports.md): the brand's schedules, their form, a preview
(HTML in the browser, PDF download) for a chosen period, "send now", and the documents of past runs.

Thin: look up within what the person may see (else 404), parse, call tertulia.reports.actions (which
checks the permission again), render. Seeing reports is Perm.VIEW; changing and sending them is
Perm.MANAGE_BRANDS.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.analytics.periods import BadPeriod, Period, from_params
from tertulia.core import ratelimit
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.permissions import Perm, brand_members
from tertulia.core.zones import zone
from tertulia.reports import actions, delivery
from tertulia.reports.build import build_report
from tertulia.reports.models import (
    ALL_SECTIONS,
    KEEP_RUNS,
    Frequency,
    ReportRun,
    ReportSchedule,
    RunDocument,
    Section,
    Weekday,
)
from tertulia.reports.render import PdfUnavailable, render_html, render_pdf
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

# The report is a document of its own: its inline <style> is allowed, nothing else is.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
MAX_EXTERNAL_TEXT = 50 * 300
# A preview is made while the person waits (a year's report: about a second, its PDF one more): an
# allowance per person keeps repeated clicks or a script from tying up the web workers.
PREVIEWS_PER_MINUTE = 20
PDFS_PER_MINUTE = 6


class ScheduleForm(forms.Form):
    title = forms.CharField(
        label=_lazy("Title"), max_length=120, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    frequency = forms.ChoiceField(label=_lazy("Frequency"), choices=Frequency.choices)
    weekday = forms.TypedChoiceField(
        label=_lazy("Day of the week (weekly)"), coerce=int, choices=Weekday.choices, initial=0
    )
    day_of_month = forms.IntegerField(
        label=_lazy("Day of the month (monthly)"),
        min_value=1,
        max_value=31,
        initial=1,
        help_text=_lazy("In shorter months, a later day is sent on the month's last day."),
    )
    hour = forms.IntegerField(
        label=_lazy("Hour (the brand's time zone)"), min_value=0, max_value=23, initial=8
    )
    sections = forms.MultipleChoiceField(
        label=_lazy("Sections"),
        choices=Section.choices,
        initial=ALL_SECTIONS,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.TypedMultipleChoiceField(
        label=_lazy("Channels (none chosen: every channel)"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    members = forms.TypedMultipleChoiceField(
        label=_lazy("People of the organization"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_lazy("Each gets the report in the language of their account."),
    )
    external = forms.CharField(
        label=_lazy("Other addresses"),
        required=False,
        max_length=MAX_EXTERNAL_TEXT,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "ltr", "placeholder": "ana@example.com es"}),
        help_text=_lazy("One per line: the address, then its language (es or en)."),
    )
    is_active = forms.BooleanField(label=_lazy("Active"), required=False, initial=True)

    def __init__(self, *args: Any, brand: Brand, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.brand = brand
        channels: Any = self.fields["channels"]
        channels.choices = [(c.pk, f"@{c.handle} ({c.network})") for c in Channel.objects.filter(brand=brand)]
        people = User.objects.filter(
            pk__in=brand_members(brand).filter(user__is_active=True).values("user_id")
        ).order_by("email")
        members: Any = self.fields["members"]
        members.choices = [(u.pk, f"{u} <{u.email}>" if u.display_name else u.email) for u in people]

    def clean_external(self) -> list[tuple[str, str]]:
        fallback = delivery.default_language(self.brand)
        found = []
        for line in str(self.cleaned_data.get("external") or "").splitlines():
            parts = line.replace(",", " ").replace(";", " ").split()
            if not parts:
                continue
            if len(parts) > 2:
                raise ValidationError(
                    _("Write one address per line, then its language: “%(line)s”."),
                    params={"line": line[:80]},
                )
            found.append((parts[0], parts[1] if len(parts) > 1 else fallback))
        return found

    def as_input(self) -> actions.ScheduleInput:
        data = self.cleaned_data
        return actions.ScheduleInput(
            title=data["title"],
            frequency=data["frequency"],
            weekday=data["weekday"],
            day_of_month=data["day_of_month"],
            hour=data["hour"],
            sections=data["sections"],
            channel_ids=data["channels"],
            member_ids=data["members"],
            external=data["external"],
            is_active=data["is_active"],
        )


def initial_of(schedule: ReportSchedule) -> dict[str, Any]:
    return {
        "title": schedule.title,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "hour": schedule.hour,
        "sections": schedule.sections,
        "channels": schedule.channel_ids,
        "members": list(schedule.members.values_list("pk", flat=True)),
        "external": "\n".join(f"{e['email']} {e['language']}" for e in schedule.external_recipients),
        "is_active": schedule.is_active,
    }


def _visible(tenant: Tenant, perm: Perm = Perm.VIEW) -> Any:
    """The current brand's schedules, as far as the person may see them (another's: not found)."""
    if tenant.brand is None:
        return ReportSchedule.objects.none()
    return tenant.restrict(ReportSchedule.objects.filter(brand=tenant.brand), perm).select_related("brand")


def _schedule(tenant: Tenant, schedule_id: int, perm: Perm = Perm.VIEW) -> ReportSchedule:
    return get_object_or_404(
        tenant.restrict(ReportSchedule.objects.all(), perm).select_related("brand"), pk=schedule_id
    )


def _light_documents() -> Any:
    """Documents without their bodies, saying whether each has a PDF."""
    has_pdf = ExpressionWrapper(Q(pdf__isnull=False), output_field=BooleanField())
    return RunDocument.objects.defer("html", "pdf").annotate(has_pdf=has_pdf)


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


@section("analytics")
@require_GET
def report_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    schedules = list(_visible(tenant).prefetch_related("members"))
    runs = list(
        ReportRun.objects.filter(schedule__in=schedules)
        .select_related("schedule")
        .prefetch_related(Prefetch("documents", queryset=_light_documents()))[: KEEP_RUNS * 4]
    )
    return render(
        request,
        "web/reports/list.html",
        {
            "section": "analytics",
            "schedules": schedules,
            "runs": runs,
            "can_manage": tenant.can(Perm.MANAGE_BRANDS),
            "sections": Section.choices,
            "weekdays": dict(Weekday.choices),
        },
    )


def _form_page(request: HttpRequest, tenant: Tenant, schedule: ReportSchedule | None) -> HttpResponse:
    brand = schedule.brand if schedule is not None else tenant.brand
    if brand is None:
        raise Http404
    error = ""
    if request.method == "POST":
        form = ScheduleForm(request.POST, brand=brand)
        if form.is_valid():
            actor = Actor.from_request(request)
            try:
                if schedule is None:
                    schedule = actions.create_schedule(actor, brand, form.as_input())
                    messages.success(request, _("Report scheduled."))
                else:
                    actions.update_schedule(actor, schedule, form.as_input())
                    messages.success(request, _("Report schedule saved."))
            except ReportSchedule.DoesNotExist as gone:
                raise Http404 from gone
            except ValidationError as refused:
                error = _refusal(refused)
            else:
                return redirect("web:reports")
    else:
        form = ScheduleForm(initial=initial_of(schedule) if schedule else None, brand=brand)
    return render(
        request,
        "web/reports/form.html",
        {"section": "analytics", "form": form, "schedule": schedule, "error": error, "brand": brand},
        status=400 if error or form.errors else 200,
    )


@section("analytics", Perm.MANAGE_BRANDS, write=Perm.MANAGE_BRANDS)
@require_http_methods(["GET", "POST"])
def report_create(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _form_page(request, tenant, None)


@section("analytics", Perm.MANAGE_BRANDS, write=Perm.MANAGE_BRANDS)
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, tenant: Tenant, report_schedule_id: int) -> HttpResponse:
    return _form_page(request, tenant, _schedule(tenant, report_schedule_id, Perm.MANAGE_BRANDS))


@section("analytics", Perm.MANAGE_BRANDS, write=Perm.MANAGE_BRANDS)
@require_POST
def report_delete(request: HttpRequest, tenant: Tenant, report_schedule_id: int) -> HttpResponse:
    schedule = _schedule(tenant, report_schedule_id, Perm.MANAGE_BRANDS)
    actions.delete_schedule(Actor.from_request(request), schedule)
    messages.success(request, _("Report schedule deleted."))
    return redirect("web:reports")


@section("analytics", Perm.MANAGE_BRANDS, write=Perm.MANAGE_BRANDS)
@require_POST
def report_send(request: HttpRequest, tenant: Tenant, report_schedule_id: int) -> HttpResponse:
    schedule = _schedule(tenant, report_schedule_id, Perm.MANAGE_BRANDS)
    if actions.request_send(Actor.from_request(request), schedule):
        messages.success(
            request,
            _(
                "The report is being made and sent. It shows under Sent reports within a minute or two,"
                " with whom it reached."
            ),
        )
    else:
        messages.info(request, _("This report is already on its way: it was asked for a moment ago."))
    return redirect("web:reports")


def _document_response(body: str | bytes, fmt: str, filename: str) -> HttpResponse:
    if fmt == "pdf":
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = REPORT_CSP
    response["X-Content-Type-Options"] = "nosniff"
    return response


@section("analytics")
@require_GET
def report_preview(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The report of a schedule (or of every section) for the chosen period, in the person's language."""
    raw = request.GET.get("schedule", "")
    schedule = (
        _schedule(tenant, int(raw), Perm.VIEW) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
    )
    brand = schedule.brand if schedule is not None else tenant.brand
    if brand is None:
        raise Http404
    today = timezone.localdate(timezone=zone(brand.timezone))
    params = request.GET.copy()
    if "days" not in params and not params.get("from"):
        params["days"] = "30" if schedule is not None and schedule.frequency == Frequency.MONTHLY else "7"
    try:
        period = from_params(params, today)
    except BadPeriod as bad:
        return HttpResponse(str(bad), status=400, content_type="text/plain; charset=utf-8")
    pdf_wanted = request.GET.get("format") == "pdf"
    who = signed_in_user(request).pk
    if not ratelimit.allow("report-preview", who, PREVIEWS_PER_MINUTE) or (
        pdf_wanted and not ratelimit.allow("report-pdf", who, PDFS_PER_MINUTE)
    ):
        return HttpResponse(
            _("Too many previews in a minute: each one takes the server a few seconds. Try again shortly."),
            status=429,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": "60"},
        )
    if schedule is None:
        wanted, channels, title = ALL_SECTIONS, None, _("Report")
    else:
        wanted, channels, title = schedule.sections, schedule.channel_ids or None, schedule.title
    language = translation.get_language() or "en"
    report = build_report(brand, period, wanted, channels, language, title)
    html = render_html(report)
    if not pdf_wanted:
        return _document_response(html, "html", "")
    try:
        pdf = render_pdf(html)
    except PdfUnavailable:
        return HttpResponse(
            _("The PDF cannot be made on this server: its PDF library is missing. The HTML version works."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return _document_response(pdf, "pdf", _file_name(brand, period, language))


def _file_name(brand: Brand, period: Period, language: str) -> str:
    return f"{brand.slug or 'report'}-{period.first.isoformat()}-{period.last.isoformat()}-{language}.pdf"


@section("analytics")
@require_GET
def report_document(request: HttpRequest, tenant: Tenant, run_document_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("html", "pdf"):
        raise Http404
    visible = tenant.restrict(RunDocument.objects.all(), brand_path="run__schedule__brand")
    document = get_object_or_404(visible.select_related("run__schedule__brand"), pk=run_document_id)
    if fmt == "html":
        return _document_response(document.html, "html", "")
    if document.pdf is None:
        raise Http404
    run = document.run
    return _document_response(
        bytes(document.pdf),
        "pdf",
        _file_name(run.schedule.brand, Period(run.first, run.last), document.language),
    )
