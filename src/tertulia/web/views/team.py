"""The Team section: who works in the organization, their roles, and who operates each channel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import (
    LastOwnerError,
    OwnerOnly,
    change_member_role,
    deactivate_member,
    reactivate_member,
)
from tertulia.core.models import Channel, ChannelOperator, Membership, Role
from tertulia.core.permissions import Perm
from tertulia.governance import coverage
from tertulia.governance.actions.invitations import open_invitations
from tertulia.web.tenant import Tenant
from tertulia.web.views.invitations import InviteForm, handle_invite
from tertulia.web.views.sections import section
from tertulia.web.views.team_access import access_context


def _operators_by_channel(tenant: Tenant) -> list[tuple[Channel, list[str]]]:
    operators: dict[int, list[str]] = {}
    # Only the brands the person works in (docs/permissions.md).
    channels = tenant.restrict(Channel.objects.all()).select_related("brand")
    grants = ChannelOperator.objects.filter(channel__in=channels).select_related("user")
    for grant in grants:
        operators.setdefault(grant.channel_id, []).append(str(grant.user))
    return [(channel, operators.get(channel.pk, [])) for channel in channels]


def _page(
    request: HttpRequest, tenant: Tenant, form: InviteForm, status: int = 200, **extra: Any
) -> HttpResponse:
    assert tenant.organization is not None
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
        # Invitations replace handing out passwords (docs/governance.md#invitations).
        "invitations": open_invitations(tenant.organization) if tenant.can(Perm.MANAGE_MEMBERS) else [],
        "gaps": coverage.gaps(tenant.organization)[:5] if tenant.can(Perm.VIEW_AUDIT) else [],
        # Brands each member works in, and who operates each channel (docs/permissions.md).
        **access_context(tenant),
        **extra,
    }
    return render(request, "web/team.html", context, status=status)


@section("team", write=Perm.MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """GET: the team; POST: invite someone by e-mail (the invitation form)."""
    assert tenant.organization is not None
    if request.method != "POST":
        return _page(request, tenant, InviteForm(organization=tenant.organization))
    if not tenant.can(Perm.MANAGE_MEMBERS):
        raise PermissionDenied
    form = InviteForm(request.POST, organization=tenant.organization)
    if handle_invite(request, tenant, form):
        return redirect(reverse("web:team") + "#invitations")
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
