"""Sign-in and sign-out at their historic addresses (/login/, /logout/). Sign-in itself is allauth's,
styled and extended in `tertulia.accounts` (docs/security.md)."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from tertulia.accounts.views import legacy_password_change as password_change
from tertulia.accounts.views import login
from tertulia.core.permissions import Access, declare

__all__ = ["login", "logout_view", "password_change"]


@declare(Access.PUBLIC)
@require_POST
def logout_view(request: HttpRequest) -> HttpResponseRedirect | HttpResponse:
    logout(request)  # audited as "signout" (tertulia.accounts.receivers)
    return redirect("web:login")
