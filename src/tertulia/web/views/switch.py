"""Switch the organization, brand or language being worked in (POST only, CSRF-protected)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tertulia.core.ids import parse_id
from tertulia.core.models import Membership
from tertulia.core.permissions import Access, declare
from tertulia.web.tenant import SESSION_BRAND, SESSION_ORG, get_tenant, signed_in_user


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)


@declare(Access.SIGNED_IN)
@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    organization_id = parse_id(request.POST.get("organization"))
    if organization_id is None:
        return HttpResponseBadRequest()
    if not Membership.objects.filter(
        user=signed_in_user(request), organization_id=organization_id, is_active=True
    ).exists():
        return HttpResponseBadRequest()
    request.session[SESSION_ORG] = organization_id
    request.session.pop(SESSION_BRAND, None)
    return _back(request)


@declare(Access.SIGNED_IN)
@login_required
@require_POST
def switch_brand(request: HttpRequest) -> HttpResponse:
    brand_id = parse_id(request.POST.get("brand"))
    tenant = get_tenant(request)
    if brand_id is None or tenant.organization is None:
        return HttpResponseBadRequest()
    # Only among the person's own brands (a member limited to some brands cannot pick another).
    if not tenant.brands().filter(pk=brand_id).exists():
        return HttpResponseBadRequest()
    request.session[SESSION_BRAND] = brand_id
    return _back(request)


@declare(Access.SIGNED_IN)
@login_required
@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in {code for code, _name in settings.LANGUAGES} and language != "":
        return HttpResponseBadRequest()
    from tertulia.core.actions.context import Actor
    from tertulia.core.actions.people import set_language

    set_language(Actor.from_request(request), signed_in_user(request), language)
    if language:
        translation.activate(language)
    response = _back(request)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language or "", samesite="Lax", httponly=True)
    return response
