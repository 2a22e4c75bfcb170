"""The organization's audit trail, newest first."""

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tertulia.api.auth import require
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import AuditOut, Text
from tertulia.api.scopes import Scope
from tertulia.core.models import AuditEntry

router = Router(tags=["audit"])


class AuditFilter(Schema):
    action: Text | None = Field(None, max_length=64, description="e.g. brand.create")
    object_type: Text | None = Field(None, max_length=64, description="e.g. core.brand")
    object_id: Text | None = Field(None, max_length=64)
    via: Text | None = Field(None, max_length=16, description="web, api, cli or system")


@router.get("/audit", response=list[AuditOut], summary="Read the audit trail, newest first")
@paginate(Pagination)
def list_audit(request: HttpRequest, filters: Query[AuditFilter]) -> QuerySet[AuditEntry]:
    ctx = require(request, Scope.AUDIT_READ)
    entries = AuditEntry.objects.filter(organization=ctx.organization).order_by("-created_at", "-id")
    for field in ("action", "object_type", "object_id", "via"):
        value = getattr(filters, field)
        if value is not None:
            entries = entries.filter(**{field: value})
    return entries
