"""The contributor portal (/contribute/): anyone proposes content or flags a conversation and follows
what became of it; the social team triages in /contribute/queue/ (docs/contributor-portal.md).

Thin: look up within what the person may see (else 404), call tertulia.portal.actions (which check
permissions again), say what happened.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization
from tertulia.core.permissions import Perm
from tertulia.portal.access import contributions_of, guidelines_for, may_triage, triage_brands, triage_queue
from tertulia.portal.actions import contributions as actions
from tertulia.portal.models import ContributionKind, ContributionStatus
from tertulia.publishing.actions.compose import may_write
from tertulia.publishing.imaging.intake import MAX_UPLOAD_BYTES
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.portal_forms import FlagForm, IdeaForm
from tertulia.web.views.sections import section

OPEN = (ContributionStatus.NEW, ContributionStatus.ACCEPTED)
PAGE = 100


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


def _brand(tenant: Tenant, value: object) -> Brand | None:
    try:
        pk = int(str(value))
    except ValueError:
        return None
    return tenant.brands().filter(pk=pk).first()


@section("contribute", Perm.VIEW, write=Perm.VIEW)
@require_http_methods(["GET", "POST"])
def contribute(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    brands = list(tenant.brands())
    initial = {"brand": tenant.brand.pk if tenant.brand else None}
    uploads = tenant.brand is not None and may_write(user, tenant.brand)
    idea = IdeaForm(initial=initial, brands=brands, uploads=uploads, prefix="idea")
    flag = FlagForm(initial=initial, brands=brands, prefix="flag")
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind")
        if kind == ContributionKind.IDEA:
            idea = IdeaForm(request.POST, request.FILES, brands=brands, uploads=uploads, prefix="idea")
            form: IdeaForm | FlagForm = idea
        elif kind == ContributionKind.FLAG:
            flag = FlagForm(request.POST, brands=brands, prefix="flag")
            form = flag
        else:
            messages.error(request, _("Choose what you are sending: an idea or a conversation."))
            return redirect("web:contribute")
        outcome = _send(request, tenant, form, str(kind))
        if isinstance(outcome, HttpResponse):
            return outcome
        errors[str(kind)] = outcome
        status = 400
    org = _org(tenant)
    mine = list(contributions_of(user, org)[:PAGE])
    guidelines = list(guidelines_for(user, org).filter(brand=tenant.brand)) if tenant.brand else []
    return render(
        request,
        "web/portal/contribute.html",
        {
            "section": "contribute",
            "idea_form": idea,
            "flag_form": flag,
            "errors": errors,
            "mine": mine,
            "guidelines": guidelines,
            "brand": tenant.brand,
            "voice_guide": bool(tenant.brand and tenant.brand.voice_guide.strip()),
            "daily_limit": actions.DAILY_LIMIT,
            "is_team": bool(tenant.brand and may_triage(user, tenant.brand)),
        },
        status=status,
    )


def _send(
    request: HttpRequest, tenant: Tenant, form: IdeaForm | FlagForm, kind: str
) -> HttpResponse | list[str]:
    if not form.is_valid():
        return [_("Check the fields marked below.")]
    values: dict[str, Any] = form.cleaned_data
    brand = _brand(tenant, values.get("brand"))
    if brand is None:
        return [_("Choose one of your brands.")]
    image = values.get("image_file")
    try:
        made = actions.propose(
            Actor.from_request(request),
            brand,
            actions.ContributionIn(
                kind=kind,
                text=values.get("text", ""),
                link=values.get("link", ""),
                why=values.get("why", ""),
                suggested_date=values.get("suggested_date"),
                urgency=values.get("urgency") or "normal",
            ),
            image_data=image.read(MAX_UPLOAD_BYTES + 1) if image else None,
            image_name=(image.name or "") if image else "",
            image_type=(image.content_type or "") if image else "",
        )
    except actions.ContributionRefused as refused:
        return refused.messages
    messages.success(
        request,
        _("Thank you! Your idea is with the social team.")
        if kind == ContributionKind.IDEA
        else _("Thank you! The social team will look at the conversation."),
    )
    return redirect(f"{reverse('web:contribute')}#contribution-{made.pk}")


@section("contribute", Perm.PUBLISH_POSTS)
@require_GET
def queue(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    org = _org(tenant)
    found = triage_queue(user, org)
    shown = request.GET.get("status", "open")
    if shown == "open":
        found = found.filter(status__in=OPEN)
    elif shown in ContributionStatus.values:
        found = found.filter(status=shown)
    else:
        shown = "all"
    brands = list(triage_brands(user, org).filter(is_archived=False))
    brand_id = request.GET.get("brand", "")
    if brand_id.isascii() and brand_id.isdigit():
        found = found.filter(brand_id=int(brand_id))
    new_count = triage_queue(user, org).filter(status=ContributionStatus.NEW).count()
    return render(
        request,
        "web/portal/queue.html",
        {
            "section": "contribute",
            "items": list(found.order_by("status", "-created_at")[:PAGE]),
            "shown": shown,
            "statuses": ContributionStatus.choices,
            "brands": brands,
            "brand_id": int(brand_id) if (brand_id.isascii() and brand_id.isdigit()) else None,
            "new_count": new_count,
        },
    )


@section("contribute", Perm.PUBLISH_POSTS)
@require_POST
def triage(request: HttpRequest, tenant: Tenant, contribution_id: int) -> HttpResponse:
    user = signed_in_user(request)
    item = get_object_or_404(triage_queue(user, _org(tenant)), pk=contribution_id)
    if not may_triage(user, item.brand):
        raise PermissionDenied
    actor = Actor.from_request(request)
    what = request.POST.get("action", "")
    reply = request.POST.get("reply", "")
    back = f"{reverse('web:contribute-queue')}#contribution-{item.pk}"
    try:
        if what == "draft":
            item = actions.make_draft(actor, item)
            messages.success(request, _("Draft post created from the idea."))
            assert item.post_id is not None
            return redirect("web:post-edit", item.post_id)
        if what == "reply":
            actions.answer(actor, item, reply)
            messages.success(request, _("Reply sent."))
        elif what in ContributionStatus.values:
            actions.decide(actor, item, what, reply)
            messages.success(request, _("Saved: the person who sent it has been told."))
        else:
            messages.error(request, _("Choose what to do."))
    except actions.ContributionRefused as refused:
        for message in refused.messages:
            messages.error(request, message)
    return redirect(back)
