"""allauth adapters: Tertulia's rules at allauth's extension points.

- Account: no public sign-up (only with an invitation in the session), sign-in refused with a
  password for addresses whose organization uses "SSO only", failed and throttled sign-ins audited,
  Tertulia's own wording for the errors people see most.
- MFA: TOTP and recovery-code secrets sealed with the vault's master key; the last second factor
  cannot be removed while an organization requires one.
- Social account: the only apps are the organizations' OIDC connections (tertulia.accounts.sso);
  who an SSO sign-in may be is decided by `sso.admit`, never by allauth's e-mail matching; its
  requests to identity providers go through the outbound guard (tertulia.accounts.idp_http).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import requests
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tertulia.accounts import sso
from tertulia.accounts.audit import audit_failed_sign_in
from tertulia.accounts.enforcement import SECOND_FACTOR_TYPES, organizations_requiring
from tertulia.accounts.idp_http import guarded_session
from tertulia.core.models import User
from tertulia.vault.crypto import Sealed, seal, unseal
from tertulia.vault.keys import load_keyring

if TYPE_CHECKING:
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialApp, SocialLogin

# An invitation (tertulia.governance) that lets its bearer create an account puts the invited address
# here; sign-up is closed otherwise, and the address cannot be changed on the sign-up form.
INVITED_EMAIL_SESSION_KEY = "tertulia_invited_email"


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": _("That e-mail address and password do not match an account."),
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts. Wait a few minutes and try again, or reset your password."
        ),
        "sso_required": _(
            "This address signs in through your organization's single sign-on, not with a password: "
            "use “Sign in with your organization's SSO” below."
        ),
        "account_inactive": _("This account is inactive."),
    }

    _reauthenticating = False

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(request.session.get(INVITED_EMAIL_SESSION_KEY))

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        request = self.request
        invited = request.session.get(INVITED_EMAIL_SESSION_KEY) if request is not None else None
        if invited and email.strip().lower() != str(invited).strip().lower():
            raise ValidationError(
                _("Sign up with the address you were invited with: %(email)s.") % {"email": invited}
            )
        return email

    def is_email_verified(self, request: HttpRequest, email: str) -> bool:
        invited = request.session.get(INVITED_EMAIL_SESSION_KEY)
        return (bool(invited) and str(invited).lower() == email.lower()) or super().is_email_verified(
            request, email
        )

    def reauthenticate(self, user: Any, password: str) -> bool:
        # Confirming one's password inside a session is not a sign-in: "SSO only" does not apply.
        self._reauthenticating = True
        try:
            return bool(super().reauthenticate(user, password))
        finally:
            self._reauthenticating = False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        email = str(credentials.get("email") or "")
        if email and not self._reauthenticating and sso.password_refused(email):
            raise self.validation_error("sso_required")
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            audit_failed_sign_in(request, email, "throttled")
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        super().authentication_failed(request, **credentials)
        reason = "wrong_password_reauthentication" if self._reauthenticating else "wrong_password"
        audit_failed_sign_in(request, str(credentials.get("email") or ""), reason)

    def get_password_change_redirect_url(self, request: HttpRequest) -> str:
        return reverse("accounts:security")


class MFAAdapter(DefaultMFAAdapter):
    """Second-factor secrets at rest are sealed like channel credentials (docs/security.md)."""

    AAD = b"tertulia:mfa"
    PREFIX = "vault1:"

    def encrypt(self, text: str) -> str:
        sealed = seal(text.encode(), self.AAD, load_keyring())
        body = {
            "k": sealed.key_id,
            "w": base64.b64encode(sealed.wrapped_key).decode(),
            "n": base64.b64encode(sealed.nonce).decode(),
            "c": base64.b64encode(sealed.ciphertext).decode(),
        }
        return self.PREFIX + json.dumps(body, separators=(",", ":"))

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(self.PREFIX):
            return encrypted_text  # stored before sealing was introduced
        body = json.loads(encrypted_text[len(self.PREFIX) :])
        sealed = Sealed(
            str(body["k"]),
            base64.b64decode(body["w"]),
            base64.b64decode(body["n"]),
            base64.b64decode(body["c"]),
        )
        return unseal(sealed, self.AAD, load_keyring()).decode()

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """The last authenticator app or security key stays while an organization requires one."""
        if authenticator.type not in SECOND_FACTOR_TYPES:
            return True
        from allauth.mfa.models import Authenticator as Model

        others = (
            Model.objects.filter(user_id=authenticator.user_id, type__in=SECOND_FACTOR_TYPES)
            .exclude(pk=authenticator.pk)
            .exists()
        )
        return others or not organizations_requiring(authenticator.user).exists()

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": _(
            "An organization you belong to requires a second factor: add another authenticator app or "
            "security key before removing this one."
        ),
    }


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Organizations' OIDC connections as allauth apps, and `sso.admit` as the gate."""

    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        return sso.social_apps(provider=provider, client_id=client_id)

    def get_requests_session(self) -> requests.Session:
        # The issuer is an address an owner typed: discovery, token, user info and keys go through
        # the outbound guard (SSRF), see accounts/idp_http.py.
        return guarded_session()

    def _refuse(self, request: HttpRequest, connection: Any, message: str, email: str = "") -> None:
        audit_failed_sign_in(
            request, email, "sso_refused", detail=message, organization=connection.organization
        )
        raise ImmediateHttpResponse(
            render(
                request,
                "accounts/sso_refused.html",
                {"message": message, "connection": connection},
                status=403,
            )
        )

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        from tertulia.accounts.models import SsoConnection

        connection = (
            SsoConnection.objects.select_related("organization")
            .filter(provider_id=sociallogin.account.provider, enabled=True)
            .first()
        )
        if connection is None:
            raise ImmediateHttpResponse(
                render(request, "accounts/sso_refused.html", {"message": ""}, status=404)
            )
        if sociallogin.state.get("process", "login") != "login":
            self._refuse(request, connection, str(_("Single sign-on can only be used to sign in.")))
        data = sociallogin.account.extra_data or {}
        claims = data.get("userinfo") or data.get("id_token") or {}
        person = sociallogin.user if isinstance(sociallogin.user, User) else None
        email = str(claims.get("email") or (person.email if person else "") or "")
        verified = claims.get("email_verified", True) not in (False, "false")
        linked = person if sociallogin.is_existing else None
        admission = sso.admit(connection, linked, email, verified)
        if admission.refusal:
            self._refuse(request, connection, admission.refusal, admission.email)
        request.session["tertulia_sso_join"] = connection.pk if admission.join else None
        if linked is None and admission.user is not None:
            # The same person, now also known to this organization's provider.
            sociallogin.connect(request, admission.user)
        elif linked is None and person is not None:
            person.email = admission.email

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Reached only for someone `admit` let in (invited, or joining on their own) with no account yet.
        return True

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        name = str(data.get("name") or "").strip()
        if name and hasattr(user, "display_name"):
            user.display_name = name[:150]
        return user

    def get_connect_redirect_url(self, request: HttpRequest, socialaccount: Any) -> str:
        return reverse("accounts:security")
