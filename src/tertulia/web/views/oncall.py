"""Team → On call (who is on call now, the next two weeks, gaps, hand-over notes, overrides), the
rotations' management pages, and Team → Time off (one's own time off and working hours).

Thin: look up within what the person may see (else 404), call tertulia.teamops.actions (which check
permissions again), say what happened. docs/team-operations.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import Perm
from tertulia.teamops import actions
from tertulia.teamops.access import may_manage, visible_rotations
from tertulia.teamops.models import (
    MAX_NOTE,
    MAX_REASON,
    HandoverNote,
    Override,
    Rotation,
    TimeOff,
    Weekday,
    WorkingHours,
)
from tertulia.teamops.oncall import HORIZON, on_call, outlook
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.oncall_forms import (
    EXTRA_ROWS,
    WEEKDAYS,
    FormError,
    a_timezone,
    an_id,
    local_instant,
    rotation_input,
    timezones,
    week_text,
    working_week,
)
from tertulia.web.views.sections import section

MAX_NOTES = 30
MAX_TIME_OFF = 100


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


def _member(tenant: Tenant) -> Membership:
    assert tenant.membership is not None
    return tenant.membership


def viewer_timezone(tenant: Tenant) -> str:
    """The person's own time zone (Time off page), else the brand's."""
    hours = WorkingHours.objects.filter(membership=_member(tenant)).first()
    if hours is not None:
        return hours.timezone
    return tenant.brand.timezone if tenant.brand is not None else "UTC"


def _people(organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=organization, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )


# --- the on-call page ----------------------------------------------------------------------------------


@section("team", Perm.VIEW)
@require_GET
def oncall_page(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, tenant)


def _page(
    request: HttpRequest, tenant: Tenant, draft: str = "", draft_rotation: int = 0, status: int = 200
) -> HttpResponse:
    """The On call page; `draft` is a refused hand-over note given back whole, for `draft_rotation`."""
    user = signed_in_user(request)
    organization = _org(tenant)
    now = timezone.now()
    rotations = list(visible_rotations(user, organization).prefetch_related("brands"))
    brands = list(tenant.brands().order_by("name"))
    found = outlook(organization, rotations, brands, now, now + HORIZON)
    mine = [p.rotation for p in found.plans if any(m.user_id == user.pk for m in p.members)]
    manageable = [r for r in rotations if may_manage(user, r)]
    return render(
        request,
        "web/oncall/page.html",
        {
            "section": "team",
            "now_rows": [(brand, on_call(brand, now)) for brand in brands],
            "schedule": found.schedule,
            "gaps": found.gaps,
            "rotations": rotations,
            "notes": HandoverNote.objects.filter(rotation__in=rotations)
            .select_related("rotation", "author")
            .order_by("-created_at", "-id")[:MAX_NOTES],
            "overrides": Override.objects.filter(rotation__in=rotations, ends_at__gt=now)
            .select_related("rotation", "user", "covers_for")
            .order_by("starts_at"),
            "note_rotations": mine,
            "manageable": manageable,
            "manageable_ids": {r.pk for r in manageable},
            "people": _people(organization) if manageable else [],
            "viewer_tz": viewer_timezone(tenant),
            "max_note": MAX_NOTE,
            "max_reason": MAX_REASON,
            "horizon_days": HORIZON.days,
            "draft": draft,
            "draft_rotation": draft_rotation,
        },
        status=status,
    )


@section("team", Perm.VIEW, write=Perm.VIEW)
@require_POST
def oncall_note(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    rotation = get_object_or_404(
        visible_rotations(user, _org(tenant)), pk=an_id(request.POST.get("rotation", "")) or 0
    )
    # Whole: the action refuses a note over MAX_NOTE (cutting here could hide text behind spaces), and a
    # refused note is given back in the form, not lost.
    text = request.POST.get("text", "")
    try:
        actions.write_note(Actor.from_request(request), rotation, text)
    except actions.Refused as refused:
        messages.error(request, str(refused))
        return _page(request, tenant, text, rotation.pk, status=422)
    else:
        messages.success(request, _("Hand-over note saved: the next person gets it at the hand-over."))
    return redirect("web:oncall")


@section("team", Perm.MANAGE_ROTATIONS)
@require_POST
def override_add(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    organization = _org(tenant)
    rotation = get_object_or_404(
        visible_rotations(user, organization), pk=an_id(request.POST.get("rotation", "")) or 0
    )
    people = {m.user_id: m.user for m in _people(organization)}
    who = people.get(an_id(request.POST.get("user", "")) or 0)
    covers_for = people.get(an_id(request.POST.get("covers_for", "")) or 0)
    tz = viewer_timezone(tenant)
    try:
        if who is None:
            raise FormError(_("Choose who covers."))
        starts_at = local_instant(request.POST.get("starts_at", ""), tz, _("From"))
        ends_at = local_instant(request.POST.get("ends_at", ""), tz, _("Until"))
        actions.add_override(
            Actor.from_request(request),
            rotation,
            who,
            starts_at,
            ends_at,
            covers_for=covers_for,
            reason=request.POST.get("reason", "")[: MAX_REASON + 1],
        )
    except (FormError, actions.Refused) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Override saved."))
    return redirect("web:oncall")


@section("team", Perm.MANAGE_ROTATIONS)
@require_POST
def override_delete(request: HttpRequest, tenant: Tenant, override_id: int) -> HttpResponse:
    user = signed_in_user(request)
    override = get_object_or_404(
        Override.objects.select_related("rotation__organization").filter(
            rotation__in=visible_rotations(user, _org(tenant))
        ),
        pk=override_id,
    )
    try:
        actions.remove_override(Actor.from_request(request), override)
    except actions.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Override removed."))
    return redirect("web:oncall")


# --- managing rotations -----------------------------------------------------------------------------------


def _form_context(
    tenant: Tenant, user: User, rotation: Rotation | None, values: dict[str, Any], errors: list[str]
) -> dict[str, Any]:
    organization = _org(tenant)
    rows = list(values.get("members", []))
    return {
        "section": "team",
        "rotation": rotation,
        "values": values,
        "errors": errors,
        "rows": [*rows, *([None] * EXTRA_ROWS)],
        "people": _people(organization),
        "brands": list(
            tenant.restrict(Brand.objects.filter(is_archived=False), Perm.MANAGE_ROTATIONS, brand_path="")
        ),
        "weekdays": Weekday.choices,
        "timezones": timezones(),
    }


def _values(rotation: Rotation | None, tenant: Tenant) -> dict[str, Any]:
    if rotation is None:
        return {
            "name": "",
            "timezone": tenant.brand.timezone if tenant.brand is not None else "Europe/Madrid",
            "all_brands": True,
            "brand_ids": [],
            "shift_days": 7,
            "handover_time": "09:00",
            "handover_weekday": 0,
            "starts_on": timezone.localdate().isoformat(),
            "is_active": True,
            "members": [],
        }
    return {
        "name": rotation.name,
        "timezone": rotation.timezone,
        "all_brands": rotation.all_brands,
        "brand_ids": list(rotation.brands.values_list("pk", flat=True)),
        "shift_days": rotation.shift_days,
        "handover_time": rotation.handover_time.strftime("%H:%M"),
        "handover_weekday": rotation.handover_weekday,
        "starts_on": rotation.starts_on.isoformat(),
        "is_active": rotation.is_active,
        "members": list(rotation.members.order_by("position").values_list("membership_id", flat=True)),
    }


def _posted(request: HttpRequest) -> dict[str, Any]:
    """What was typed, to show it again next to the error."""
    post = request.POST
    return {
        "name": post.get("name", "")[:200],
        "timezone": post.get("timezone", "")[:64],
        "all_brands": post.get("all_brands") == "on",
        "brand_ids": [an_id(v) for v in post.getlist("brands")[:500]],
        "shift_days": post.get("shift_days", "")[:4],
        "handover_time": post.get("handover_time", "")[:8],
        "handover_weekday": an_id(post.get("handover_weekday", "")),
        "starts_on": post.get("starts_on", "")[:10],
        "is_active": post.get("is_active") == "on",
        "members": [
            an_id(post.get(f"member_{i}", "")) for i in range(60) if post.get(f"member_{i}", "").strip()
        ],
    }


@section("team", Perm.MANAGE_ROTATIONS)
@require_http_methods(["GET", "POST"])
def rotation_list(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    organization = _org(tenant)
    errors: list[str] = []
    values = _values(None, tenant)
    if request.method == "POST":
        values = _posted(request)
        try:
            rotation = actions.create_rotation(
                Actor.from_request(request), organization, rotation_input(request.POST)
            )
        except (FormError, actions.Refused) as refused:
            errors.append(str(refused))
        else:
            messages.success(request, _("Rotation created."))
            return redirect("web:oncall-rotation", rotation.pk)
    rotations = [
        r for r in visible_rotations(user, organization).prefetch_related("brands") if may_manage(user, r)
    ]
    context = _form_context(tenant, user, None, values, errors)
    context["rotations"] = rotations
    return render(request, "web/oncall/rotations.html", context, status=400 if errors else 200)


def _managed(request: HttpRequest, tenant: Tenant, rotation_id: int) -> Rotation:
    user = signed_in_user(request)
    rotation = get_object_or_404(visible_rotations(user, _org(tenant)), pk=rotation_id)
    return rotation


@section("team", Perm.MANAGE_ROTATIONS)
@require_http_methods(["GET", "POST"])
def rotation_edit(request: HttpRequest, tenant: Tenant, rotation_id: int) -> HttpResponse:
    user = signed_in_user(request)
    rotation = _managed(request, tenant, rotation_id)
    if not may_manage(user, rotation):
        return render(
            request, "web/error.html", {"message": _("You may not manage this rotation.")}, status=403
        )
    errors: list[str] = []
    values = _values(rotation, tenant)
    if request.method == "POST":
        values = _posted(request)
        try:
            actions.update_rotation(Actor.from_request(request), rotation, rotation_input(request.POST))
        except (FormError, actions.Refused) as refused:
            errors.append(str(refused))
        else:
            messages.success(request, _("Rotation saved."))
            return redirect("web:oncall-rotation", rotation.pk)
    context = _form_context(tenant, user, rotation, values, errors)
    return render(request, "web/oncall/rotation.html", context, status=400 if errors else 200)


@section("team", Perm.MANAGE_ROTATIONS)
@require_POST
def rotation_delete(request: HttpRequest, tenant: Tenant, rotation_id: int) -> HttpResponse:
    rotation = _managed(request, tenant, rotation_id)
    try:
        actions.delete_rotation(Actor.from_request(request), rotation)
    except actions.Refused as refused:
        messages.error(request, str(refused))
        return redirect("web:oncall-rotation", rotation.pk)
    messages.success(request, _("Rotation deleted."))
    return redirect("web:oncall-rotations")


# --- time off and working hours ---------------------------------------------------------------------


@section("team", Perm.VIEW, write=Perm.VIEW)
@require_http_methods(["GET", "POST"])
def time_off(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    member = _member(tenant)
    hours = actions.working_hours_of(member)
    tz = viewer_timezone(tenant)
    errors: list[str] = []
    week_values = week_text(hours.week or {})
    tz_value = hours.timezone if hours.pk else tz
    if request.method == "POST":
        try:
            if request.POST.get("form") == "hours":
                week_values = {d: request.POST.get(f"hours_{d}", "")[:100] for d in WEEKDAYS}
                tz_value = request.POST.get("timezone", "")[:64]
                actions.set_working_hours(
                    Actor.from_request(request),
                    member,
                    a_timezone(request.POST.get("timezone", "")),
                    working_week(request),
                )
                messages.success(request, _("Working hours saved."))
            else:
                actions.add_time_off(
                    Actor.from_request(request),
                    member,
                    local_instant(request.POST.get("starts_at", ""), tz, _("From")),
                    local_instant(request.POST.get("ends_at", ""), tz, _("Until")),
                    request.POST.get("note", "")[: MAX_REASON + 1],
                )
                messages.success(request, _("Time off recorded."))
        except (FormError, actions.Refused) as refused:
            errors.append(str(refused))
        else:
            return redirect("web:time-off")
    now = timezone.now()
    return render(
        request,
        "web/oncall/time_off.html",
        {
            "section": "team",
            "spans": TimeOff.objects.filter(membership=member, ends_at__gt=now - timedelta(days=30)).order_by(
                "starts_at"
            )[:MAX_TIME_OFF],
            "errors": errors,
            "viewer_tz": tz,
            "tz_value": tz_value,
            "week_values": [
                (d, label, week_values.get(d, "")) for d, label in zip(WEEKDAYS, Weekday.labels, strict=True)
            ],
            "timezones": timezones(),
            "max_reason": MAX_REASON,
        },
        status=400 if errors else 200,
    )


@section("team", Perm.VIEW, write=Perm.VIEW)
@require_POST
def time_off_delete(request: HttpRequest, tenant: Tenant, time_off_id: int) -> HttpResponse:
    span = get_object_or_404(
        TimeOff.objects.select_related("membership__organization"), pk=time_off_id, membership=_member(tenant)
    )
    actions.remove_time_off(Actor.from_request(request), span)
    messages.success(request, _("Time off removed."))
    return redirect("web:time-off")
