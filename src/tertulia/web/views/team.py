"""The Team section: who works in the organization, their roles, and who operates each channel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import (
    LastOwnerError,
    OwnerOnly,
    change_member_role,
    deactivate_member,
    reactivate_member,
)
from tertulia.core.actions.people import AlreadyMember, add_person
from tertulia.core.models import Channel, ChannelOperator, Membership, Role
from tertulia.core.permissions import Perm
from tertulia.web.tenant import Tenant
from tertulia.web.views.sections import section


class AddPersonForm(forms.Form):
    email = forms.EmailField(label=_lazy("E-mail address"), max_length=254)
    display_name = forms.CharField(label=_lazy("Name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_lazy("Role"), choices=Role.choices, initial=Role.COMMUNITY_MANAGER)


def _operators_by_channel(tenant: Tenant) -> list[tuple[Channel, list[str]]]:
    operators: dict[int, list[str]] = {}
    grants = ChannelOperator.objects.filter(channel__organization=tenant.organization).select_related("user")
    for grant in grants:
        operators.setdefault(grant.channel_id, []).append(str(grant.user))
    channels = Channel.objects.filter(organization=tenant.organization).select_related("brand")
    return [(channel, operators.get(channel.pk, [])) for channel in channels]


def _page(
    request: HttpRequest, tenant: Tenant, form: AddPersonForm, status: int = 200, **extra: Any
) -> HttpResponse:
    members = (
        Membership.objects.filter(organization=tenant.organization)
        .select_related("user")
        .order_by("-is_active", "user__email")
    )
    context = {
        "section": "team",
        "members": members,
        "channels": _operators_by_channel(tenant),
        "form": form,
        "roles": Role.choices,
        **extra,
    }
    return render(request, "web/team.html", context, status=status)


@section("team")
@never_cache  # may show a temporary password
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method != "POST":
        return _page(request, tenant, AddPersonForm())
    if not tenant.can(Perm.MANAGE_MEMBERS):
        raise PermissionDenied
    form = AddPersonForm(request.POST)
    if form.is_valid():
        assert tenant.organization is not None
        try:
            added = add_person(
                Actor.from_request(request),
                tenant.organization,
                form.cleaned_data["email"],
                form.cleaned_data["role"],
                form.cleaned_data["display_name"],
            )
        except AlreadyMember:
            form.add_error("email", _("This person is already a member of the organization."))
        except OwnerOnly:
            form.add_error("role", _("Only an owner can grant or take away the owner role."))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # The temporary password is rendered into this response only, never stored in clear.
            return _page(request, tenant, AddPersonForm(), added=added)
    return _page(request, tenant, form, status=400)


def _member(tenant: Tenant, member_id: int) -> Membership:
    return get_object_or_404(Membership, pk=member_id, organization=tenant.organization)


@section("team", Perm.MANAGE_MEMBERS)
@require_POST
def change_role(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    member = _member(tenant, member_id)
    role = request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, _("Choose a role from the list."))
        return redirect("web:team")
    try:
        change_member_role(Actor.from_request(request), member, role)
    except OwnerOnly:
        messages.error(request, _("Only an owner can grant or take away the owner role."))
    except LastOwnerError:
        messages.error(request, _("The organization must keep at least one active owner."))
    else:
        messages.success(request, _("Role of %(person)s changed.") % {"person": member.user})
    return redirect("web:team")


@section("team", Perm.MANAGE_MEMBERS)
@require_POST
def set_active(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    member = _member(tenant, member_id)
    actor = Actor.from_request(request)
    try:
        if request.POST.get("active") == "1":
            reactivate_member(actor, member)
            messages.success(
                request, _("%(person)s can work in the organization again.") % {"person": member.user}
            )
        else:
            deactivate_member(actor, member)
            messages.success(request, _("%(person)s no longer has access.") % {"person": member.user})
    except OwnerOnly:
        messages.error(request, _("Only an owner can grant or take away the owner role."))
    except LastOwnerError:
        messages.error(request, _("The organization must keep at least one active owner."))
    return redirect("web:team")
