"""Signal receivers: allauth's sign-in, second-factor and password events become audit entries and,
where protection got weaker, alerts to the organization's owners."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set, user_logged_in
from allauth.mfa.signals import (
    authentication_failed,
    authenticator_added,
    authenticator_removed,
    authenticator_reset,
    authenticator_used,
)
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tertulia.accounts.alerts import alert_owners
from tertulia.accounts.audit import audit_failed_sign_in, audit_person
from tertulia.core.actions.context import Actor
from tertulia.core.models import User

SSO_JOIN_SESSION_KEY = "tertulia_sso_join"


def _factor_label(kind: str) -> str:
    labels = {
        "totp": _("an authenticator app"),
        "webauthn": _("a security key"),
        "recovery_codes": _("recovery codes"),
    }
    return labels.get(kind, kind)


def _actor(request: HttpRequest | None, user: User | None = None) -> Actor:
    if request is None:
        return Actor.system("sign-in")
    actor = Actor.from_request(request)
    if actor.user is None and user is not None:
        return Actor(user=user, via=actor.via, ip_address=actor.ip_address, user_agent=actor.user_agent)
    return actor


@receiver(user_logged_in)
def on_signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    method = "sso" if sociallogin is not None else "password"
    changes: dict[str, list[Any]] = {"method": [None, method]}
    if sociallogin is not None:
        changes["provider"] = [None, sociallogin.account.provider]
    mfa = [r for r in request.session.get("account_authentication_methods", []) if r.get("method") == "mfa"]
    if mfa:
        changes["second_factor"] = [None, str(mfa[-1].get("type", ""))]
    audit_person(_actor(request, user), user, "signin", changes)
    join = request.session.pop(SSO_JOIN_SESSION_KEY, None)
    if join:
        from tertulia.accounts.actions.sso import join_through_sso

        join_through_sso(_actor(request, user), user, int(join))


@receiver(user_logged_out)
def on_signed_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is None or not isinstance(user, User):
        return
    audit_person(_actor(request, user), user, "signout")


@receiver(password_changed)
@receiver(password_set)
@receiver(password_reset)
def on_password(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_person(_actor(request, user), user, "person.password", {"password": ["…", "…"]})


@receiver(authenticator_added)
def on_factor_added(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    audit_person(
        _actor(request, user), user, "person.second_factor_add", {"type": [None, authenticator.type]}
    )


@receiver(authenticator_removed)
def on_factor_removed(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    kind = str(authenticator.type)
    audit_person(_actor(request, user), user, "person.second_factor_remove", {"type": [kind, None]})
    if kind == "recovery_codes":
        return  # removed along with the last authenticator: that removal already alerted
    actor_label = _actor(request, user).label
    alert_owners(
        user,
        lambda person, org: (
            _("Security alert: %(person)s removed a second factor") % {"person": person.email}
        ),
        lambda person, org: (
            _(
                "%(person)s (%(org)s) removed %(factor)s from their Tertulia account (by %(actor)s). If they "
                "did not, their account may be in someone else's hands: deactivate them on the Team page and "
                "check the audit trail."
            )
            % {"person": person.email, "org": org, "factor": _factor_label(kind), "actor": actor_label}
        ),
    )


@receiver(authenticator_reset)
def on_recovery_codes_regenerated(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    audit_person(
        _actor(request, user), user, "person.recovery_codes_regenerate", {"type": [None, authenticator.type]}
    )
    alert_owners(
        user,
        lambda person, org: (
            _("Security alert: %(person)s made new recovery codes") % {"person": person.email}
        ),
        lambda person, org: (
            _(
                "%(person)s (%(org)s) generated new recovery codes for their Tertulia account; the old "
                "ones no longer work. If they did not, check their account."
            )
            % {"person": person.email, "org": org}
        ),
    )


@receiver(authenticator_used)
def on_factor_used(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any) -> None:
    if authenticator.type != "recovery_codes":
        return  # ordinary use is part of the "signin" entry
    audit_person(
        _actor(request, user),
        user,
        "person.recovery_code_use",
        {"reauthentication": [None, bool(kwargs.get("reauthenticated"))]},
    )
    alert_owners(
        user,
        lambda person, org: _("Security alert: %(person)s used a recovery code") % {"person": person.email},
        lambda person, org: (
            _(
                "%(person)s (%(org)s) signed in with a recovery code instead of their authenticator app or "
                "security key. If they did not lose it, check their account."
            )
            % {"person": person.email, "org": org}
        ),
    )


@receiver(authentication_failed)
def on_second_factor_failed(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kwargs: Any
) -> None:
    reason = "wrong_code_reauthentication" if kwargs.get("reauthentication") else "wrong_code"
    audit_failed_sign_in(request, user.email, reason)
