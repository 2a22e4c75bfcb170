"""Every error the API returns is JSON: `{"detail": "...", "code": "..."}`.

Validation errors add `errors`: a list of `{"loc": [...], "msg": "...", "type": "..."}`.
Nothing here lets a request end in Django's HTML error pages, and nothing
returns an exception's internals: unexpected errors are logged and answered
with a plain 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tertulia.api.actions import ScopeNotAllowed, TokenRefused
from tertulia.connectors.base import AuthenticationFailed, ConnectorError, ContentRejected, NotSupported
from tertulia.connectors.connecting import AppNotRegistered, SignInNotVerified, WrongSignIn
from tertulia.connectors.registry import UnknownNetwork, networks
from tertulia.core.actions.channels import ChannelTaken, NotAMember
from tertulia.core.actions.organizations import LastOwnerError, OwnerOnly

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=Exception)

# Django reports unique constraints found by full_clean() with these codes: they are conflicts, not typos.
_CONFLICT_CODES = frozenset({"unique", "unique_together"})

_CODE_FOR_STATUS = {
    400: "malformed_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "throttled",
}


class ApiError(Exception):
    """Raised by endpoints for a specific, explained refusal."""

    def __init__(self, status: int, detail: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code or _CODE_FOR_STATUS.get(status, "error")
        self.extra = extra


def error_body(status: int, detail: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code or _CODE_FOR_STATUS.get(status, "error"), **extra}


def json_error(status: int, detail: str, code: str | None = None, **extra: Any) -> HttpResponse:
    response = JsonResponse(error_body(status, detail, code, **extra), status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tertulia"'
    return response


def _django_validation_errors(exc: DjangoValidationError) -> tuple[list[dict[str, Any]], bool]:
    """Field errors in the API's shape, and whether every one of them is a uniqueness conflict."""
    errors: list[dict[str, Any]] = []
    codes: set[str | None] = set()
    if hasattr(exc, "error_dict"):
        for field, items in exc.error_dict.items():
            loc = ["body"] if field == NON_FIELD_ERRORS else ["body", field]
            for item in items:
                codes.add(item.code)
                errors.append(
                    {"loc": loc, "msg": " ".join(str(m) for m in item), "type": item.code or "invalid"}
                )
    else:
        for item in exc.error_list:
            codes.add(item.code)
            errors.append(
                {"loc": ["body"], "msg": " ".join(str(m) for m in item), "type": item.code or "invalid"}
            )
    return errors, bool(codes) and codes <= _CONFLICT_CODES


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api` (most specific classes win: ninja walks the exception's MRO)."""

    def on(exc_class: type[E]) -> Callable[[Callable[[HttpRequest, E], HttpResponse]], None]:
        def register(handler: Callable[[HttpRequest, E], HttpResponse]) -> None:
            api.add_exception_handler(exc_class, cast(Any, handler))

        return register

    @on(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return json_error(exc.status, exc.detail, exc.code, **exc.extra)

    @on(NinjaValidationError)
    def invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "invalid")),
            }
            for e in exc.errors
        ]
        return json_error(422, _("The request is not valid."), "validation_error", errors=errors)

    @on(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        detail = exc.message if exc.message != "Unauthorized" else _("Authentication required.")
        return json_error(401, detail, "not_authenticated")

    @on(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:
            return json_error(400, _("The request body is not valid JSON."), "malformed_json")
        return json_error(exc.status_code, str(exc))

    @on(DjangoValidationError)
    def invalid_model(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors, conflict = _django_validation_errors(exc)
        if conflict:
            return json_error(409, _("This would duplicate an existing record."), "conflict", errors=errors)
        return json_error(422, _("The request is not valid."), "validation_error", errors=errors)

    @on(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return json_error(403, _("You do not have permission to do this."), "permission_denied")

    @on(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return json_error(404, _("Not found."), "not_found")

    @on(ObjectDoesNotExist)
    def missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return json_error(404, _("Not found."), "not_found")

    @on(IntegrityError)
    def conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        # The action's transaction rolled back: nothing was written.
        logger.info("API conflict on %s %s: %s", request.method, request.path, exc)
        return json_error(409, _("This conflicts with an existing record."), "conflict")

    @on(DataError)
    def bad_data(request: HttpRequest, exc: DataError) -> HttpResponse:
        logger.warning("API data error on %s %s: %s", request.method, request.path, exc)
        return json_error(422, _("A value is out of range or malformed."), "validation_error")

    @on(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return json_error(413, _("The request body is too large."), "payload_too_large")

    @on(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return json_error(400, _("The request was refused."), "malformed_request")

    @on(OwnerOnly)
    def owner_only(request: HttpRequest, exc: OwnerOnly) -> HttpResponse:
        return json_error(403, _("Only an owner can grant or take away the owner role."), "permission_denied")

    @on(LastOwnerError)
    def last_owner(request: HttpRequest, exc: LastOwnerError) -> HttpResponse:
        return json_error(409, _("The organization must keep at least one active owner."), "last_owner")

    @on(ChannelTaken)
    def channel_taken(request: HttpRequest, exc: ChannelTaken) -> HttpResponse:
        return json_error(
            409,
            _("This account is already connected to a channel. Each account can be connected only once."),
            "channel_taken",
        )

    @on(NotAMember)
    def not_a_member(request: HttpRequest, exc: NotAMember) -> HttpResponse:
        return json_error(
            422,
            _("Only active members of the organization can operate a channel: %(people)s.") % {"people": exc},
            "not_a_member",
        )

    @on(UnknownNetwork)
    def unknown_network(request: HttpRequest, exc: UnknownNetwork) -> HttpResponse:
        known = networks()
        return json_error(
            422,
            _("Unknown network. Known networks: %(known)s.") % {"known": ", ".join(known)},
            "unknown_network",
            networks=known,
        )

    @on(SignInNotVerified)
    def sign_in_not_verified(request: HttpRequest, exc: SignInNotVerified) -> HttpResponse:
        return json_error(400, str(exc), "sign_in_not_verified")

    @on(AppNotRegistered)
    def app_not_registered(request: HttpRequest, exc: AppNotRegistered) -> HttpResponse:
        return json_error(422, str(exc), "app_not_registered")

    @on(WrongSignIn)
    def wrong_sign_in(request: HttpRequest, exc: WrongSignIn) -> HttpResponse:
        return json_error(422, str(exc), "wrong_sign_in")

    @on(AuthenticationFailed)
    def authentication_failed(request: HttpRequest, exc: AuthenticationFailed) -> HttpResponse:
        # The network refused the account's credentials (a wrong app password, a revoked token).
        return json_error(422, str(exc), "network_refused_credentials")

    @on(NotSupported)
    def not_supported(request: HttpRequest, exc: NotSupported) -> HttpResponse:
        return json_error(422, str(exc), "not_supported")

    @on(ContentRejected)
    def rejected(request: HttpRequest, exc: ContentRejected) -> HttpResponse:
        return json_error(422, str(exc), "rejected_by_network")

    @on(ConnectorError)
    def network_failed(request: HttpRequest, exc: ConnectorError) -> HttpResponse:
        logger.warning("API connector error on %s %s: %s", request.method, request.path, exc)
        return json_error(502, _("The network could not be reached or refused the request."), "network_error")

    @on(ScopeNotAllowed)
    def scope_not_allowed(request: HttpRequest, exc: ScopeNotAllowed) -> HttpResponse:
        return json_error(403, str(exc), "scope_not_allowed")

    @on(TokenRefused)
    def token_refused(request: HttpRequest, exc: TokenRefused) -> HttpResponse:
        return json_error(422, str(exc), "validation_error")

    @on(ValueError)
    def value_error(request: HttpRequest, exc: ValueError) -> HttpResponse:
        # Actions raise ValueError for input they refuse (e.g. unknown fields); the message is theirs.
        return json_error(422, str(exc) or _("The request is not valid."), "validation_error")

    @on(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return json_error(500, _("Something went wrong on our side. It has been logged."), "server_error")
