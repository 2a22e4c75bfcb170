"""Who am I: the token's owner, organization, role and scopes."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from tertulia.api.auth import context
from tertulia.api.schemas import MeOut
from tertulia.core.permissions import Access, declare

router = Router(tags=["me"])


@router.get("/me", response=MeOut, summary="The caller: person, organization, role and token scopes")
@declare(Access.SIGNED_IN)  # any valid token: it tells who is calling
def me(request: HttpRequest) -> dict[str, Any]:
    ctx = context(request)
    return {
        "user": ctx.user,
        "organization": ctx.organization,
        "role": ctx.member.role,
        "scopes": ctx.token.scopes,
        "token": ctx.token,
    }
