"""Crisis alerts in the web app: the list (open first), the alert page (what rose and why, who was
told when and how, acknowledge and resolve), raising the alarm by hand, each brand's escalation
chain, and the acknowledge link of the alert e-mails (docs/crisis-alerts.md).

Thin: look up within what the person may see (else 404), call tertulia.crisis.alerts / .escalation
(which check permissions again), say what happened.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, User
from tertulia.core.permissions import Access, Perm, brands_for, declare
from tertulia.crisis import alerts as alert_actions
from tertulia.crisis import escalation
from tertulia.crisis.models import Alert, AlertState, EscalationStep
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

MAX_LISTED = 200
EMPTY_ROWS = 3


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


def _alert(request: HttpRequest, tenant: Tenant, alert_id: int) -> Alert:
    visible = alert_actions.visible_alerts(signed_in_user(request), _org(tenant))
    return get_object_or_404(visible.select_related("surge__watch__query", "acknowledged_by"), pk=alert_id)


@section("crisis")
@require_GET
def alert_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    order = Case(
        When(state=AlertState.OPEN, then=Value(0)),
        When(state=AlertState.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    listed = list(
        alert_actions.visible_alerts(user, _org(tenant))
        .select_related("acknowledged_by")
        .annotate(rank=order)
        .order_by("rank", "-raised_at", "-id")[:MAX_LISTED]
    )
    brands = list(brands_for(user, _org(tenant)).filter(is_archived=False).order_by("name"))
    return render(
        request,
        "web/crisis/alerts_list.html",
        {
            "section": "crisis",
            "alerts": listed,
            "brands": brands,
            "max_title": alert_actions.MAX_TITLE,
            "tenant_brand_id": tenant.brand.pk if tenant.brand is not None else None,
        },
    )


@section("crisis")
@require_GET
def alert_detail(request: HttpRequest, tenant: Tenant, crisis_alert_id: int) -> HttpResponse:
    alert = _alert(request, tenant, crisis_alert_id)
    return render(
        request,
        "web/crisis/alerts_detail.html",
        {
            "section": "crisis",
            "alert": alert,
            "explanation": alert_actions.explanation_of(alert),
            "notices": escalation.notices_of(alert),
            "chain": escalation.chain_for(alert.brand),
            "is_open": alert.state == AlertState.OPEN,
            "is_resolved": alert.state == AlertState.RESOLVED,
        },
    )


@section("crisis", write=Perm.VIEW)
@require_POST
def alert_acknowledge(request: HttpRequest, tenant: Tenant, crisis_alert_id: int) -> HttpResponse:
    alert = _alert(request, tenant, crisis_alert_id)
    try:
        alert_actions.acknowledge(Actor.from_request(request), alert)
    except alert_actions.AlertRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, _("Acknowledged: the escalation stopped. The team sees that you are on it.")
        )
    return redirect("web:crisis-alert", alert.pk)


@section("crisis", write=Perm.VIEW)
@require_POST
def alert_resolve(request: HttpRequest, tenant: Tenant, crisis_alert_id: int) -> HttpResponse:
    alert = _alert(request, tenant, crisis_alert_id)
    try:
        alert_actions.resolve(Actor.from_request(request), alert)
    except alert_actions.AlertRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Resolved."))
    return redirect("web:crisis-alert", alert.pk)


@section("crisis", write=Perm.VIEW)
@require_POST
def alert_raise(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    brand_id = request.POST.get("brand", "")
    wanted = int(brand_id) if brand_id.isdigit() and len(brand_id) < 19 else 0  # an id, or nothing
    brand = get_object_or_404(brands_for(user, _org(tenant)), pk=wanted)
    try:
        alert = alert_actions.raise_alert(
            Actor.from_request(request),
            brand,
            request.POST.get("title", "")[: alert_actions.MAX_TITLE + 1],
            request.POST.get("summary", "")[: alert_actions.MAX_SUMMARY + 1],
        )
    except alert_actions.AlertRefused as refused:
        messages.error(request, str(refused))
        return redirect("web:crisis-alerts")
    messages.success(request, _("Alert raised: the brand's escalation chain is being told."))
    return redirect("web:crisis-alert", alert.pk)


# --- the escalation chain ------------------------------------------------------------------------


def _rows(brand: Brand, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*steps, *({"user_id": None, "wait_minutes": 10, "by_email": True} for _ in range(EMPTY_ROWS))][
        : escalation.MAX_STEPS
    ]


@section("crisis", write=Perm.MANAGE_BRANDS)
@require_http_methods(["GET", "POST"])
def escalation_chain(request: HttpRequest, tenant: Tenant, brand_id: int) -> HttpResponse:
    user = signed_in_user(request)
    brand = get_object_or_404(brands_for(user, _org(tenant)), pk=brand_id)
    can_edit = escalation.may_edit_chain(user, brand)
    people = escalation.candidates(brand)
    errors: list[str] = []
    steps = [
        {"user_id": s.user_id, "wait_minutes": s.wait_minutes, "by_email": s.by_email}
        for s in EscalationStep.objects.filter(brand=brand).order_by("position")
    ]
    if request.method == "POST":
        if not can_edit:
            return render(
                request, "web/error.html", {"message": _("You may not manage this brand.")}, status=403
            )
        wanted, errors = _read_chain(request)
        if not errors:
            try:
                escalation.set_chain(Actor.from_request(request), brand, wanted)
            except alert_actions.AlertRefused as refused:
                errors.append(str(refused))
            else:
                messages.success(request, _("Escalation chain saved."))
                return redirect("web:crisis-chain", brand.pk)
        steps = [
            {"user_id": s.user_id, "wait_minutes": s.wait_minutes, "by_email": s.by_email} for s in wanted
        ]
    return render(
        request,
        "web/crisis/alerts_chain.html",
        {
            "section": "crisis",
            "brand": brand,
            "rows": _rows(brand, steps),
            "people": people,
            "can_edit": can_edit,
            "errors": errors,
            "fallback": escalation.fallback_people(brand),
            "renotify_minutes": int(escalation.renotify_every().total_seconds() // 60),
            "max_wait": escalation.MAX_WAIT,
        },
        status=400 if errors else 200,
    )


def _read_chain(request: HttpRequest) -> tuple[list[escalation.StepInput], list[str]]:
    wanted: list[escalation.StepInput] = []
    errors: list[str] = []
    for index in range(escalation.MAX_STEPS + EMPTY_ROWS):
        raw_user = request.POST.get(f"user_{index}", "").strip()
        if not raw_user:
            continue
        raw_wait = request.POST.get(f"wait_{index}", "0").strip() or "0"
        if not raw_user.isdigit() or len(raw_user) > 18 or not raw_wait.isdigit() or len(raw_wait) > 5:
            errors.append(_("Choose a person and a whole number of minutes on each line."))
            continue
        wanted.append(
            escalation.StepInput(int(raw_user), int(raw_wait), request.POST.get(f"email_{index}") == "on")
        )
    return wanted, errors


# --- the acknowledge link of the e-mails -----------------------------------------------------------


@declare(Access.PUBLIC)
@never_cache
@require_http_methods(["GET", "POST"])
def ack_link(request: HttpRequest, key: str) -> HttpResponse:
    """GET shows what acknowledging means (changes nothing); POST acknowledges as the link's person."""
    signed_in = request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    try:
        alert, person = escalation.check_link(key, signed_in)
    except escalation.LinkRefused as refused:
        return render(
            request, "web/crisis/alerts_ack_link.html", {"refused": str(refused), "done": False}, status=400
        )
    context: dict[str, Any] = {"alert": alert, "person": person, "refused": "", "done": False}
    if request.method == "POST":
        actor = Actor.from_request(request)
        actor = Actor(user=person, via=actor.via, ip_address=actor.ip_address, user_agent=actor.user_agent)
        try:
            alert_actions.acknowledge(actor, alert)
        except alert_actions.AlertRefused as refused:
            context["refused"] = str(refused)
            return render(request, "web/crisis/alerts_ack_link.html", context, status=400)
        context["done"] = True
    return render(request, "web/crisis/alerts_ack_link.html", context)
