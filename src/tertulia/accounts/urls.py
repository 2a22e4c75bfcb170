"""Everything under /accounts/: allauth's pages (kept where Tertulia has no reason to change them) and
Tertulia's own (namespace `accounts`). The sign-in page itself is /login/ (`web:login`)."""

from __future__ import annotations

from collections.abc import Callable

from allauth.account import urls as account_urls
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.http import HttpResponseBase
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView

from tertulia.accounts import views
from tertulia.core.permissions import Access, declare

# allauth's pages Tertulia replaces (below) or leaves out: people do not manage several e-mail
# addresses (their address is how organizations and SSO domains know them).
REPLACED = {"account_login", "account_email"}


def _public_redirect(pattern_name: str) -> Callable[..., HttpResponseBase]:
    return declare(Access.PUBLIC)(RedirectView.as_view(pattern_name=pattern_name, query_string=True))


own: list[URLPattern | URLResolver] = [
    path("security/", views.security, name="security"),
    path("sessions/<int:user_session_id>/end/", views.session_end, name="session-end"),
    path("sessions/end-others/", views.sessions_end_others, name="sessions-end-others"),
    path("sso/", views.sso_by_email, name="sso"),
    path("sso/<slug:provider_id>/", views.sso_start, name="sso-start"),
    path("organization/security/", views.organization_security, name="org-security"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include((own, "accounts"))),
    # allauth's names, pointing at Tertulia's pages.
    path("login/", _public_redirect("web:login"), name="account_login"),
    path("sessions/", views.sessions, name="usersessions_list"),
    path("3rdparty/", _public_redirect("accounts:security"), name="socialaccount_connections"),
    # No form where someone back from a provider picks their own address: `sso.admit` decides.
    path("3rdparty/signup/", views.sso_signup_refused, name="socialaccount_signup"),
    *[p for p in account_urls.urlpatterns if getattr(p, "name", None) not in REPLACED],
    path("2fa/", include("allauth.mfa.urls")),
    path("3rdparty/", include("allauth.socialaccount.urls")),
    # allauth's start address for a provider goes to Tertulia's SSO page (same rules, clear errors);
    # the way back is allauth's (settings.SOCIALACCOUNT_OPENID_CONNECT_URL_PREFIX is "oidc").
    path("oidc/<str:provider_id>/login/", views.sso_provider_login, name="openid_connect_login"),
    path("oidc/<str:provider_id>/login/callback/", oidc_views.callback, name="openid_connect_callback"),
]
