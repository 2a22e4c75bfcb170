"""The brand's inbox settings (/settings/inbox/): SLA policy and business hours, assignment and
escalation, saved replies, and the organization's tags.

Anyone in the organization may look (Perm.VIEW); changing needs Perm.MANAGE_BRANDS. Every form
posts to its own URL; the work is done (and audited) by tertulia.inbox.actions.settings. Ids from
another organization, or saved replies of another brand, are "not found".
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand
from tertulia.core.permissions import Perm, covers_all_brands
from tertulia.inbox.actions import settings as actions
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.models import InboxSettings, SavedReply, Tag
from tertulia.inbox.saved_replies import VARIABLES
from tertulia.inbox.sla import policy_for
from tertulia.web.forms_inbox import InboxSettingsForm, SavedReplyForm, SlaPolicyForm, TagRenameForm
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section


def _settings_of(brand: Brand) -> InboxSettings | None:
    return InboxSettings.objects.filter(brand=brand).select_related("escalate_to").first()


def _shared_by_every_brand(request: HttpRequest, tenant: Tenant) -> None:
    """Tags are shared by every brand: only people who work in all of them may change them."""
    assert tenant.organization is not None
    if not covers_all_brands(signed_in_user(request), tenant.organization):
        raise PermissionDenied


def _page(
    request: HttpRequest,
    tenant: Tenant,
    *,
    status: int = 200,
    sla_form: SlaPolicyForm | None = None,
    settings_form: InboxSettingsForm | None = None,
    reply_form: SavedReplyForm | None = None,
    editing: SavedReply | None = None,
    tag_forms: dict[int, TagRenameForm] | None = None,
) -> HttpResponse:
    brand = tenant.brand
    context: dict[str, Any] = {
        "section": "settings",
        "brand": brand,
        "can_edit": tenant.can(Perm.MANAGE_BRANDS),
    }
    if brand is not None:
        tag_forms = tag_forms or {}
        tags = list(
            Tag.objects.filter(organization=tenant.organization)
            .annotate(used=Count("conversations", filter=Q(conversations__brand__in=tenant.all_brands())))
            .order_by("name")
        )
        context.update(
            sla_form=sla_form or SlaPolicyForm(policy=policy_for(brand), brand=brand),
            settings_form=settings_form
            or InboxSettingsForm(settings=_settings_of(brand), people=actions.escalation_choices(brand)),
            reply_form=reply_form or SavedReplyForm(reply=editing, brand=brand),
            editing=editing,
            replies=SavedReply.objects.filter(brand=brand).order_by("shortcut", "language"),
            variables=[(f"{{{name}}}", description) for name, description in VARIABLES.items()],
            tags=[
                (
                    tag,
                    tag_forms.get(tag.pk)
                    or TagRenameForm(prefix=f"tag-{tag.pk}", initial={"name": tag.name}),
                )
                for tag in tags
            ],
        )
        if not context["can_edit"]:
            for form in (context["sla_form"], context["settings_form"], context["reply_form"]):
                for field in form.fields.values():
                    field.disabled = True
    return render(request, "web/inbox_settings.html", context, status=status)


def _field_error(form: Any, exc: ActionRefused) -> None:
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, str(exc))


@section("settings")
@require_GET
def inbox_settings(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    editing = None
    if tenant.brand is not None and request.GET.get("edit", "").isdigit():
        editing = get_object_or_404(SavedReply, pk=int(request.GET["edit"]), brand=tenant.brand)
    return _page(request, tenant, editing=editing)


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def save_sla(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if tenant.brand is None:
        return redirect("web:inbox-settings")
    brand = tenant.brand
    form = SlaPolicyForm(request.POST, policy=policy_for(brand), brand=brand)
    if form.is_valid():
        try:
            actions.update_sla_policy(Actor.from_request(request), brand, **form.policy_values())
        except ActionRefused as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("SLA policy saved. It applies to answers due from now on."))
            return redirect("web:inbox-settings")
    return _page(request, tenant, status=400, sla_form=form)


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def save_assignment(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if tenant.brand is None:
        return redirect("web:inbox-settings")
    brand = tenant.brand
    form = InboxSettingsForm(
        request.POST, settings=_settings_of(brand), people=actions.escalation_choices(brand)
    )
    if form.is_valid():
        try:
            actions.update_inbox_settings(
                Actor.from_request(request),
                brand,
                assignment=form.cleaned_data["assignment"],
                escalate_to=form.chosen_person(),
            )
        except ActionRefused as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("Assignment and escalation saved."))
            return redirect("web:inbox-settings")
    return _page(request, tenant, status=400, settings_form=form)


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def save_reply(request: HttpRequest, tenant: Tenant, reply_id: int | None = None) -> HttpResponse:
    if tenant.brand is None:
        return redirect("web:inbox-settings")
    brand = tenant.brand
    reply = get_object_or_404(SavedReply, pk=reply_id, brand=brand) if reply_id is not None else None
    form = SavedReplyForm(request.POST, reply=reply, brand=brand)
    if form.is_valid():
        try:
            saved = actions.save_saved_reply(Actor.from_request(request), brand, reply, **form.cleaned_data)
        except ActionRefused as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("Saved reply /%(shortcut)s saved.") % {"shortcut": saved.shortcut})
            return redirect("web:inbox-settings")
    return _page(request, tenant, status=400, reply_form=form, editing=reply)


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def delete_reply(request: HttpRequest, tenant: Tenant, reply_id: int) -> HttpResponse:
    reply = get_object_or_404(SavedReply, pk=reply_id, brand=tenant.brand)
    actions.delete_saved_reply(Actor.from_request(request), reply)
    messages.success(
        request,
        _("Saved reply /%(shortcut)s (%(language)s) deleted.")
        % {"shortcut": reply.shortcut, "language": reply.language},
    )
    return redirect("web:inbox-settings")


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def rename_tag(request: HttpRequest, tenant: Tenant, tag_id: int) -> HttpResponse:
    tag = get_object_or_404(Tag, pk=tag_id, organization=tenant.organization)
    _shared_by_every_brand(request, tenant)
    form = TagRenameForm(request.POST, prefix=f"tag-{tag.pk}")
    if form.is_valid():
        try:
            actions.rename_tag(Actor.from_request(request), tag, form.cleaned_data["name"])
        except ActionRefused as exc:
            _field_error(form, exc)
        else:
            messages.success(request, _("Tag renamed to “%(name)s”.") % {"name": tag.name})
            return redirect("web:inbox-settings")
    return _page(request, tenant, status=400, tag_forms={tag.pk: form})


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def delete_tag(request: HttpRequest, tenant: Tenant, tag_id: int) -> HttpResponse:
    tag = get_object_or_404(Tag, pk=tag_id, organization=tenant.organization)
    _shared_by_every_brand(request, tenant)
    actions.delete_tag(Actor.from_request(request), tag)
    messages.success(request, _("Tag “%(name)s” deleted.") % {"name": tag.name})
    return redirect("web:inbox-settings")
