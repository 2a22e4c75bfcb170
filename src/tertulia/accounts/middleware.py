"""Two middlewares: signed-in sessions kept listable, and the second factor an organization requires."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from tertulia.accounts.enforcement import second_factor_missing

ACTIVITY_SESSION_KEY = "tertulia_seen_at"
ACTIVITY_RESOLUTION_SECONDS = 60

# Reachable while a required second factor is missing: setting one up (and what it needs), signing
# out, switching language, static files, and the live stream every page opens.
ALLOWED_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
    "/logout/",
    "/switch/language/",
    "/static/",
    "/live/",
    "/healthz",
    "/api/",  # the API checks tokens itself (tertulia.api.auth)
    "/hooks/",
    "/oauth/",
)


class SessionActivityMiddleware:
    """Keep allauth's `UserSession` row for every signed-in session: created on the first request (also
    for sessions made outside allauth's sign-in), last seen, IP and browser refreshed once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.session.session_key:
            now = time.time()
            seen = request.session.get(ACTIVITY_SESSION_KEY)
            if not isinstance(seen, int | float) or now - seen >= ACTIVITY_RESOLUTION_SECONDS:
                from allauth.usersessions.models import UserSession

                try:
                    UserSession.objects.create_from_request(request)
                except PermissionDenied:  # allauth found no client IP address: nothing to record
                    pass
                else:
                    request.session[ACTIVITY_SESSION_KEY] = now
        return self.get_response(request)


class SecondFactorRequiredMiddleware:
    """A member of an organization that requires a second factor, without one, sets one up first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and second_factor_missing(user)
        ):
            target = reverse("mfa_index")
            if request.headers.get("HX-Request"):
                response: HttpResponse = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse(
                    {"detail": _("Set up a second factor first."), "code": "second_factor_required"},
                    status=403,
                )
            messages.warning(
                request,
                _(
                    "An organization you belong to requires a second factor. Set up an authenticator app "
                    "or a security key to continue."
                ),
            )
            return HttpResponseRedirect(target)
        return self.get_response(request)
