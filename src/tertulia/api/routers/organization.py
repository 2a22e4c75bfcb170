"""The organization the token acts in."""

from django.http import HttpRequest
from ninja import Router

from tertulia.api.auth import require
from tertulia.api.schemas import OrganizationOut
from tertulia.api.scopes import Scope
from tertulia.core.models import Organization

router = Router(tags=["organization"])


@router.get("/organization", response=OrganizationOut, summary="The organization this token acts in")
def get_organization(request: HttpRequest) -> Organization:
    return require(request, Scope.ORGANIZATION_READ).organization
