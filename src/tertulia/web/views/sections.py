"""The app's sections. Thin: check access, gather what the page shows, render."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from tertulia.core.actions.brands import update_brand
from tertulia.core.actions.context import Actor
from tertulia.core.actions.rehearsals import NoSandboxChannel, rehearsals_for, stage_rehearsal
from tertulia.core.models import AuditEntry
from tertulia.core.permissions import ACCESS_ATTRIBUTE, Access, Perm, declare
from tertulia.web import selectors
from tertulia.web.forms import BrandProfileForm
from tertulia.web.tenant import Tenant, get_tenant

View = Callable[..., HttpResponse]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def section(
    name: str, perm: Perm = Perm.VIEW, *, write: Perm | Iterable[Perm] | None = None
) -> Callable[[View], View]:
    """Require sign-in, an organization, and `perm` in it; pass the tenant to the view.

    `write`: what a POST (or any other unsafe method) needs besides `perm`: a permission, or several
    of which any one will do (without it, `perm` alone). A view every member may see (`Perm.VIEW`)
    that accepts POST must say it, `write=Perm.VIEW` if that is so: the route walker
    (tests/security/test_route_walk.py) reads both and checks every role against them
    (docs/permissions.md). Finer checks (this object, this channel) stay in the view.
    """
    writes = frozenset([write] if isinstance(write, Perm) else write or ())

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            tenant = get_tenant(request)
            if tenant.organization is None:
                return render(request, "web/no_organization.html", {"section": name}, status=403)
            if not tenant.can(perm):
                raise PermissionDenied
            if writes and request.method not in SAFE_METHODS and not writes & tenant.perms:
                raise PermissionDenied
            request.section = name  # type: ignore[attr-defined]  # per-request attribute
            return view(request, tenant, *args, **kwargs)

        checked = login_required(wrapper)
        setattr(checked, ACCESS_ATTRIBUTE, perm)
        checked.tertulia_write = writes  # type: ignore[attr-defined]  # read by the route walker
        return checked

    return decorate


@declare(Access.SIGNED_IN)
@login_required
def home(request: HttpRequest) -> HttpResponse:
    # Seed 003's spokes land on the contributor portal; the hub, on the inbox.
    if Perm.OPERATE_CHANNELS not in get_tenant(request).perms and get_tenant(request).can(Perm.PROPOSE_POSTS):
        return redirect("web:contribute")
    return redirect("web:inbox")


@section("publish")
@require_safe
def publish(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    # Imported here: that module imports `section` from this one.
    from tertulia.web.views.posts import post_list

    return render(
        request,
        "web/publish.html",
        {"section": "publish", "channels": selectors.channel_overview(tenant), **post_list(request, tenant)},
    )


@section("listen")
@require_safe
def listen(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    # Imported here: that module imports `section` from this one.
    from tertulia.web.views.listening import overview

    return overview(request, tenant)


@section("crisis", write=Perm.RUN_SIMULATIONS)
@require_http_methods(["GET", "POST"])
def crisis(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    if request.method == "POST":
        if not tenant.can(Perm.RUN_SIMULATIONS) or tenant.brand is None:
            raise PermissionDenied
        try:
            stage_rehearsal(Actor.from_request(request), tenant.brand)
        except NoSandboxChannel:
            messages.error(request, _("This brand has no sandbox channel to rehearse on."))
        else:
            messages.success(
                request, _("A simulated crisis is under way on the sandbox network. Watch the inbox.")
            )
        return redirect("web:crisis")
    # Imported here: that module imports `section` from this one.
    from tertulia.web.views.publishing_settings import pause_overview

    return render(
        request,
        "web/crisis.html",
        {
            "section": "crisis",
            "rehearsals": rehearsals_for(tenant.brand) if tenant.brand else [],
            "volume": selectors.mention_volume(tenant),
            "return_to": "crisis",
            **pause_overview(tenant),
        },
    )


@section("settings", write=Perm.MANAGE_BRANDS)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    brand = tenant.brand
    form = None
    if brand is not None:
        can_edit = tenant.can(Perm.MANAGE_BRANDS)
        if request.method == "POST":
            if not can_edit:
                raise PermissionDenied
            form = BrandProfileForm(request.POST, instance_values=brand)
            if form.is_valid():
                update_brand(Actor.from_request(request), brand, **form.cleaned_data)
                messages.success(request, _("Brand profile saved."))
                return redirect("web:settings")
        else:
            form = BrandProfileForm(instance_values=brand)
        if not can_edit:
            form.disable()
    audit = (
        AuditEntry.objects.filter(organization=tenant.organization)[:50]
        if tenant.can(Perm.VIEW_AUDIT)
        else []
    )
    return render(request, "web/settings.html", {"section": "settings", "form": form, "audit": audit})
