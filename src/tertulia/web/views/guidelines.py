"""The guidelines library (/guidelines/): per brand, voice and tone, moderation policy, crisis
playbooks, community guidelines, legal and other, with their versions. What lives elsewhere (the
brand's voice guide, its crisis playbooks, its moderation rules) is shown from there and linked, not
copied (docs/contributor-portal.md#guidelines)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, User
from tertulia.core.permissions import Perm
from tertulia.crisis.playbooks import playbooks_for
from tertulia.inbox.actions.settings import escalation_choices
from tertulia.moderation.models import ModerationRule
from tertulia.portal.access import guidelines_for, may_edit_guidelines
from tertulia.portal.actions import guidelines as actions
from tertulia.portal.models import Guideline, GuidelineKind
from tertulia.portal.render import render_guideline
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.portal_forms import GuidelineForm
from tertulia.web.views.sections import section


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


def _guideline(request: HttpRequest, tenant: Tenant, guideline_id: int) -> Guideline:
    return get_object_or_404(guidelines_for(signed_in_user(request), _org(tenant)), pk=guideline_id)


@section("contribute")
@require_GET
def library(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    brand = tenant.brand
    found = list(guidelines_for(user, _org(tenant)).filter(brand=brand)) if brand else []
    kinds = [
        {"value": value, "label": label, "items": [g for g in found if g.kind == value]}
        for value, label in GuidelineKind.choices
    ]
    playbooks = list(playbooks_for(user, _org(tenant)).filter(brand=brand)) if brand else []
    rules = (
        list(tenant.restrict(ModerationRule.objects.filter(brand=brand)).only("name", "enabled", "brand"))
        if brand
        else []
    )
    return render(
        request,
        "web/portal/guidelines.html",
        {
            "section": "contribute",
            "brand": brand,
            "kinds": kinds,
            "voice_guide": render_guideline(brand.voice_guide) if brand else "",
            "playbooks": playbooks,
            "rules": rules,
            "can_edit": bool(brand and may_edit_guidelines(user, brand)),
        },
    )


def _people(brand: Brand) -> list[User]:
    return escalation_choices(brand)


@section("contribute", Perm.MANAGE_BRANDS)
@require_http_methods(["GET", "POST"])
def guideline_new(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    brand = tenant.brand
    if brand is None or not may_edit_guidelines(user, brand):
        raise PermissionDenied
    kind = request.GET.get("kind", "")
    form = GuidelineForm(
        request.POST or None,
        initial={"kind": kind if kind in GuidelineKind.values else GuidelineKind.VOICE, "owner": user.pk},
        people=_people(brand),
    )
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            made = actions.create_guideline(Actor.from_request(request), brand, _values(form))
        except actions.GuidelineRefused as refused:
            errors = refused.messages
        else:
            messages.success(request, _("Guideline saved."))
            return redirect("web:guideline", made.pk)
    return render(
        request,
        "web/portal/guideline_form.html",
        {"section": "contribute", "form": form, "errors": errors, "brand": brand, "guideline": None},
        status=400 if request.method == "POST" else 200,
    )


def _values(form: GuidelineForm) -> actions.GuidelineIn:
    data = form.cleaned_data
    return actions.GuidelineIn(
        kind=data["kind"],
        title=data["title"],
        body=data.get("body") or "",
        owner=form.chosen_owner(),
        last_reviewed=data.get("last_reviewed"),
    )


@section("contribute")
@require_GET
def guideline_detail(request: HttpRequest, tenant: Tenant, guideline_id: int) -> HttpResponse:
    user = signed_in_user(request)
    guideline = _guideline(request, tenant, guideline_id)
    versions = list(guideline.versions.select_related("changed_by"))
    shown = None
    wanted = request.GET.get("version", "")
    if wanted:
        shown = next((v for v in versions if str(v.version) == wanted), None)
        if shown is None:
            raise Http404
    body = shown.body if shown is not None else guideline.body
    return render(
        request,
        "web/portal/guideline.html",
        {
            "section": "contribute",
            "guideline": guideline,
            "shown": shown,
            "title": shown.title if shown is not None else guideline.title,
            "body": render_guideline(body),
            "versions": versions,
            "can_edit": may_edit_guidelines(user, guideline.brand),
        },
    )


@section("contribute", Perm.MANAGE_BRANDS)
@require_http_methods(["GET", "POST"])
def guideline_edit(request: HttpRequest, tenant: Tenant, guideline_id: int) -> HttpResponse:
    user = signed_in_user(request)
    guideline = _guideline(request, tenant, guideline_id)
    if not may_edit_guidelines(user, guideline.brand):
        raise PermissionDenied
    initial = {
        "kind": guideline.kind,
        "title": guideline.title,
        "body": guideline.body,
        "owner": guideline.owner_id,
        "last_reviewed": guideline.last_reviewed,
        "version": guideline.version,
    }
    form = GuidelineForm(request.POST or None, initial=initial, people=_people(guideline.brand))
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_guideline(
                Actor.from_request(request),
                guideline,
                _values(form),
                version=form.cleaned_data.get("version") or 0,
            )
        except actions.GuidelineRefused as refused:
            errors = refused.messages
        else:
            messages.success(request, _("Guideline saved."))
            return redirect("web:guideline", guideline.pk)
    return render(
        request,
        "web/portal/guideline_form.html",
        {
            "section": "contribute",
            "form": form,
            "errors": errors,
            "brand": guideline.brand,
            "guideline": guideline,
        },
        status=400 if request.method == "POST" else 200,
    )


@section("contribute", Perm.MANAGE_BRANDS)
@require_POST
def guideline_delete(request: HttpRequest, tenant: Tenant, guideline_id: int) -> HttpResponse:
    guideline = _guideline(request, tenant, guideline_id)
    try:
        actions.delete_guideline(Actor.from_request(request), guideline)
    except actions.GuidelineRefused as refused:
        raise PermissionDenied(refused.messages[0]) from None
    messages.success(request, _("Guideline deleted. Its versions went with it."))
    return redirect("web:guidelines")
