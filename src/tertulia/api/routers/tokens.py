"""The caller's own API tokens in this organization.

A token can only create tokens for its own owner and organization, with at
most its own scopes (and, as always, at most what the owner's role allows),
and never outliving itself.
"""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from tertulia.api.actions import create_token, revoke_token
from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.models import ApiToken
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import ObjectId, TokenCreatedOut, TokenIn, TokenOut
from tertulia.api.scopes import Scope

router = Router(tags=["tokens"])


def _own_tokens(ctx: ApiContext) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=ctx.user, organization=ctx.organization).select_related(
        "organization"
    )


@router.get("/tokens", response=list[TokenOut], summary="List your tokens in this organization")
@paginate(Pagination)
def list_tokens(request: HttpRequest, include_revoked: bool = False) -> QuerySet[ApiToken]:
    ctx = require(request, Scope.TOKENS_READ)
    tokens = _own_tokens(ctx).order_by("-created_at", "-id")
    if not include_revoked:
        tokens = tokens.filter(revoked_at__isnull=True)
    return tokens


@router.post(
    "/tokens",
    response={201: TokenCreatedOut},
    summary="Create a token for yourself (the plaintext is in this response only)",
)
def create_api_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, object]]:
    ctx = require(request, Scope.TOKENS_WRITE)
    beyond = sorted(set(payload.scopes) - set(ctx.token.scopes))
    if beyond:
        raise ApiError(
            403,
            _("A token cannot grant scopes it does not have: %(scopes)s.") % {"scopes": ", ".join(beyond)},
            "scope_not_allowed",
        )
    limit = ctx.token.expires_at
    if limit is not None and (payload.expires_at is None or payload.expires_at > limit):
        raise ApiError(
            403,
            _("A token cannot create a token that outlives it: set expires_at before its expiry."),
            "scope_not_allowed",
        )
    token, plaintext = create_token(
        ctx.actor(request), ctx.user, ctx.organization, payload.name, payload.scopes, payload.expires_at
    )
    data = TokenOut.model_validate(token).model_dump()
    return Status(201, {**data, "token": plaintext})


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke one of your tokens")
def revoke_api_token(request: HttpRequest, token_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.TOKENS_WRITE)
    token = get_object_or_404(_own_tokens(ctx), pk=token_id)
    revoke_token(ctx.actor(request), token)
    return Status(204, None)
