"""Bearer-token authentication and the per-request scope + role check.

Only `Authorization: Bearer trt_...` authenticates the API. Session cookies are
deliberately not accepted, so no API write can be forged cross-site (there is
no ambient credential a browser would attach) and CSRF tokens are not needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from tertulia.accounts.enforcement import second_factor_missing_in
from tertulia.api.actions import TokenInvalid, resolve
from tertulia.api.errors import ApiError
from tertulia.api.models import ApiToken
from tertulia.api.scopes import SCOPE_PERMISSION, Scope
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.models.audit import Via
from tertulia.core.permissions import Perm, brands_for, permissions_of, restrict

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ApiContext:
    """Who is calling, for which organization, with which token: `request.auth` on every endpoint."""

    token: ApiToken
    member: Membership

    @property
    def user(self) -> User:
        return self.token.user

    @property
    def organization(self) -> Organization:
        return self.token.organization

    @property
    def perms(self) -> frozenset[Perm]:
        return permissions_of(self.member)

    def brands(self, perm: Perm = Perm.VIEW) -> QuerySet[Brand]:
        """The brands the token's owner works in (all of the organization's unless limited to some)."""
        return brands_for(self.user, self.organization, perm)

    def restrict(self, queryset: QuerySet[M], perm: Perm = Perm.VIEW, **options: Any) -> QuerySet[M]:
        """`queryset` narrowed to the owner's organization and brands (see `permissions.restrict`)."""
        return restrict(queryset, self.user, self.organization, perm, **options)

    def actor(self, request: HttpRequest) -> Actor:
        return Actor.from_request(
            request, via=Via.API, label=f"{self.user.email} (token {self.token.prefix})"
        )


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header, "")
        scheme, _sep, credentials = header.partition(" ")
        if not header:
            raise AuthenticationError(
                message=_("Authentication required: send 'Authorization: Bearer <token>'.")
            )
        if scheme.lower() != "bearer" or not credentials.strip():
            raise AuthenticationError(message=_("Use 'Authorization: Bearer <token>'."))
        return self.authenticate(request, credentials.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiContext:
        try:
            found = resolve(token)
        except TokenInvalid as exc:
            raise AuthenticationError(message=exc.reason) from None
        if second_factor_missing_in(found.token.user, found.token.organization):
            # The organization requires a second factor its owner has not set up (docs/security.md).
            raise ApiError(
                403,
                _(
                    "This organization requires a second factor: set one up in Tertulia (your sign-in "
                    "and security page) before using this token."
                ),
                "second_factor_required",
            )
        # Actions and the audit trail read request.user; the token's owner is the user of this request.
        request.user = found.token.user
        if found.token.user.language:
            translation.activate(found.token.user.language)
        return ApiContext(token=found.token, member=found.member)


def context(request: HttpRequest) -> ApiContext:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, ApiContext):
        raise AuthenticationError(message=_("Authentication required."))
    return auth


def require(request: HttpRequest, scope: Scope) -> ApiContext:
    """The caller's context if the token has `scope` and the owner's role grants what it needs; else 403."""
    ctx = context(request)
    if scope.value not in ctx.token.scopes:
        raise ApiError(
            403,
            _("This token does not have the '%(scope)s' scope.") % {"scope": scope.value},
            "missing_scope",
        )
    if SCOPE_PERMISSION[scope] not in ctx.perms:
        raise ApiError(
            403,
            _("Your role in this organization no longer allows '%(scope)s'.") % {"scope": scope.value},
            "permission_denied",
        )
    return ctx
