"""Sign-in pages around allauth's: the sign-in page, SSO entry points, one's own security page and
sessions, and the organization's security settings. Thin: the rules live in actions and modules."""

from __future__ import annotations

import logging
from typing import Any

import requests
from allauth.account.views import LoginView as AllauthLoginView
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.accounts import sso
from tertulia.accounts.actions.policy import OwnSecondFactorFirst, policy_of, set_second_factor_required
from tertulia.accounts.actions.sso import SsoError, SsoSettings, delete_connection, save_connection
from tertulia.accounts.enforcement import has_second_factor
from tertulia.accounts.forms import SecondFactorPolicyForm, SsoConnectionForm, SsoEmailForm
from tertulia.accounts.models import SsoConnection
from tertulia.accounts.sessions import end_other_sessions, end_session, list_sessions
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Membership
from tertulia.core.permissions import Access, Perm, declare
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

logger = logging.getLogger("tertulia.accounts")

# Audit actions shown on the organization's security page.
SIGN_IN_ACTIONS = (
    "signin",
    "signin.failed",
    "person.second_factor_add",
    "person.second_factor_remove",
    "person.recovery_codes_regenerate",
    "person.recovery_code_use",
    "person.session_end",
    "person.sessions_end_others",
    "person.sessions_ended",
    "security.second_factor_policy",
    "sso.create",
    "sso.update",
    "sso.delete",
    "sso.domain_verify",
    "sso.domain_unverify",
    "sso.join",
)


class LoginView(AllauthLoginView):
    """allauth's sign-in (throttled, second-factor stage) on Tertulia's page, with the SSO entry."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context.setdefault("sso_form", SsoEmailForm())
        return context


login = declare(Access.PUBLIC)(LoginView.as_view())


def _to_provider(request: HttpRequest, connection: SsoConnection) -> HttpResponseBase:
    provider = get_social_adapter(request).get_provider(request, connection.provider_id)
    try:
        response: HttpResponseBase = provider.redirect_from_request(request)
    except requests.RequestException as error:  # discovery failed: see accounts/idp_http.py
        logger.warning("sso %s: identity provider unreachable: %s", connection.provider_id, error)
        message = _(
            "Your organization's sign-in service (%(name)s) could not be reached. Try again in a few "
            "minutes; if it keeps happening, tell your organization's administrator."
        ) % {"name": connection.name}
        return render(
            request,
            "accounts/sso_refused.html",
            {"message": message, "heading": _("Sign-in service unreachable"), "connection": connection},
            status=502,
        )
    return response


@declare(Access.PUBLIC)
@require_POST
def sso_by_email(request: HttpRequest) -> HttpResponseBase:
    """The "sign in with your organization's SSO" form: the e-mail address says which organization."""
    form = SsoEmailForm(request.POST)
    if form.is_valid():
        connection = sso.connection_for_email(form.cleaned_data["email"])
        if connection is not None:
            return _to_provider(request, connection)
        messages.error(
            request,
            _("No organization signs this address in through single sign-on: use your password."),
        )
    else:
        messages.error(request, _("Enter your work e-mail address to find your organization's sign-in."))
    return redirect("web:login")


@declare(Access.PUBLIC)
@require_http_methods(["GET", "POST"])
def sso_start(request: HttpRequest, provider_id: str) -> HttpResponseBase:
    """An organization's own sign-in link: a page with one button (allauth starts sign-ins on POST)."""
    connection = SsoConnection.objects.select_related("organization").filter(provider_id=provider_id).first()
    if connection is None or not sso.is_usable(connection):
        raise Http404
    if request.method == "POST":
        return _to_provider(request, connection)
    return render(
        request,
        "accounts/sso_start.html",
        {"connection": connection, "next": request.GET.get("next", "")},
    )


@declare(Access.PUBLIC)
@require_http_methods(["GET", "POST"])
def sso_provider_login(request: HttpRequest, provider_id: str) -> HttpResponseBase:
    """allauth's own start address for a provider, answered by `sso_start`'s page and rules."""
    if request.method == "POST":
        return sso_start(request, provider_id)
    connection = SsoConnection.objects.filter(provider_id=provider_id).first()
    if connection is None or not sso.is_usable(connection):
        raise Http404
    return redirect(sso.start_url(connection, request.GET.get("next", "")))


@declare(Access.PUBLIC)
def sso_signup_refused(request: HttpRequest) -> HttpResponse:
    """Where allauth would ask someone back from a provider to complete a sign-up form: never offered."""
    message = _("Your organization's sign-in service did not give Tertulia what it needs to sign you in.")
    return render(request, "accounts/sso_refused.html", {"message": message}, status=403)


@declare(Access.SIGNED_IN)
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """One's own sign-in: password, second factors, sessions, single sign-on links."""
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount

    user = signed_in_user(request)
    factors = list(Authenticator.objects.filter(user=user).order_by("type", "created_at"))
    links = list(SocialAccount.objects.filter(user=user))
    names = dict(
        SsoConnection.objects.filter(provider_id__in=[a.provider for a in links]).values_list(
            "provider_id", "name"
        )
    )
    return render(
        request,
        "accounts/security.html",
        {
            "factors": factors,
            "has_second_factor": has_second_factor(user),
            "required_by": list(
                Membership.objects.filter(
                    user=user, is_active=True, organization__security_policy__require_second_factor=True
                ).values_list("organization__name", flat=True)
            ),
            "sso_links": [names.get(a.provider, a.provider) for a in links],
            "sessions": list_sessions(user, request.session.session_key),
        },
    )


@declare(Access.SIGNED_IN)
@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "accounts/sessions.html",
        {"sessions": list_sessions(user, request.session.session_key)},
    )


@declare(Access.SIGNED_IN)
@login_required
@require_POST
def session_end(request: HttpRequest, user_session_id: int) -> HttpResponse:
    user = signed_in_user(request)
    from allauth.usersessions.models import UserSession

    mine = UserSession.objects.filter(pk=user_session_id, user=user).first()
    if mine is None:
        raise Http404
    current = mine.session_key == request.session.session_key
    end_session(Actor.from_request(request), user, user_session_id)
    if current:
        return redirect("web:login")
    messages.success(request, _("That session is signed out."))
    return redirect("usersessions_list")


@declare(Access.SIGNED_IN)
@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    ended = end_other_sessions(Actor.from_request(request), user, request.session.session_key)
    messages.success(request, _("Signed out everywhere else (%(n)d sessions).") % {"n": ended})
    return redirect("usersessions_list")


@section("settings", Perm.MANAGE_ORGANIZATION, write=Perm.MANAGE_ORGANIZATION)
@require_http_methods(["GET", "POST"])
def organization_security(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The organization's sign-in rules: a required second factor, single sign-on, recent events."""
    organization = tenant.organization
    if organization is None:  # section() guarantees one
        raise PermissionDenied
    from allauth.mfa.models import Authenticator

    actor = Actor.from_request(request)
    connection = SsoConnection.objects.filter(organization=organization).first()
    policy_form = SecondFactorPolicyForm(
        initial={"require_second_factor": policy_of(organization).require_second_factor}
    )
    sso_form = SsoConnectionForm(initial=_sso_initial(connection))
    status = 200
    if request.method == "POST":
        what = request.POST.get("form")
        if what == "policy":
            policy_form = SecondFactorPolicyForm(request.POST)
            if policy_form.is_valid():
                try:
                    set_second_factor_required(
                        actor, organization, policy_form.cleaned_data["require_second_factor"]
                    )
                except OwnSecondFactorFirst as exc:
                    policy_form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Sign-in rules saved."))
                    return redirect("accounts:org-security")
        elif what == "sso":
            sso_form = SsoConnectionForm(request.POST)
            if sso_form.is_valid():
                data = sso_form.cleaned_data
                try:
                    save_connection(
                        actor,
                        organization,
                        SsoSettings(
                            name=data["name"],
                            issuer=data["issuer"],
                            client_id=data["client_id"],
                            client_secret=data["client_secret"],
                            domains=sso_form.domain_list(),
                            enabled=data["enabled"],
                            sso_only=data["sso_only"],
                            auto_join=data["auto_join"],
                            join_role=data["join_role"],
                        ),
                    )
                except SsoError as exc:
                    sso_form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Single sign-on saved."))
                    return redirect("accounts:org-security")
        elif what == "sso-delete":
            delete_connection(actor, organization)
            messages.success(request, _("Single sign-on removed."))
            return redirect("accounts:org-security")
        else:
            return HttpResponse(status=400)
        status = 422
    members = list(
        Membership.objects.filter(organization=organization, is_active=True)
        .select_related("user")
        .order_by("user__email")
    )
    protected = set(
        Authenticator.objects.filter(
            user_id__in=[m.user_id for m in members], type__in=("totp", "webauthn")
        ).values_list("user_id", flat=True)
    )
    events = AuditEntry.objects.filter(organization=organization, action__in=SIGN_IN_ACTIONS)[:50]
    return render(
        request,
        "accounts/organization_security.html",
        {
            "section": "settings",
            "policy_form": policy_form,
            "sso_form": sso_form,
            "connection": connection,
            "domains": list(connection.domains.all()) if connection else [],
            "start_url": request.build_absolute_uri(sso.start_url(connection)) if connection else "",
            "callback_url": (
                request.build_absolute_uri(
                    reverse("openid_connect_callback", kwargs={"provider_id": connection.provider_id})
                )
                if connection
                else ""
            ),
            "members": [(m, m.user_id in protected) for m in members],
            "events": events,
        },
        status=status,
    )


def _sso_initial(connection: SsoConnection | None) -> dict[str, Any]:
    if connection is None:
        return {"enabled": True}
    return {
        "name": connection.name,
        "issuer": connection.issuer,
        "client_id": connection.client_id,
        "domains": "\n".join(connection.domains.values_list("domain", flat=True)),
        "enabled": connection.enabled,
        "sso_only": connection.sso_only,
        "auto_join": connection.auto_join,
        "join_role": connection.join_role,
    }


@declare(Access.PUBLIC)
def legacy_password_change(request: HttpRequest) -> HttpResponseRedirect:
    """The old address of "change your password" (web:password-change), kept for links and bookmarks."""
    return redirect("account_change_password")
