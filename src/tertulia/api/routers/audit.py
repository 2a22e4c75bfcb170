"""The organization's audit trail: filtered list (newest first), export with hashes, chain check."""

from datetime import UTC, datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tertulia.api.auth import require
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import AuditOut, Text
from tertulia.api.scopes import Scope
from tertulia.core import audit_chain
from tertulia.core.actions.audit import iter_entries, record, verify
from tertulia.core.audit_query import AuditFilters, filtered
from tertulia.core.csvsafe import csv_lines
from tertulia.core.models import AuditEntry

router = Router(tags=["audit"])

# The areas of tertulia.core.audit_areas (a test keeps the two lists the same).
Area = Literal[
    "signin",
    "permissions",
    "credentials",
    "publishing",
    "moderation",
    "crisis",
    "audit",
    "listening",
    "inbox",
    "brands",
    "team",
    "portal",
    "other",
]


class AuditFilter(Schema):
    person: int | Literal["none"] | None = Field(
        None, description='A person\'s id, or "none" for entries without a person (system, deleted people)'
    )
    area: Area | None = Field(None, description="the group of actions (docs/audit.md)")
    action: Text | None = Field(None, max_length=64, description="e.g. brand.create, or a prefix: post.")
    object_type: Text | None = Field(None, max_length=64, description="e.g. core.brand")
    object_id: Text | None = Field(None, max_length=64)
    object: Text | None = Field(None, max_length=255, description="part of the object's recorded name")
    since: datetime | None = Field(None, description="from this moment (included)")
    until: datetime | None = Field(None, description="to this moment (excluded)")
    via: Text | None = Field(None, max_length=16, description="web, api, cli or system")

    def filters(self) -> AuditFilters:
        return AuditFilters(
            person=self.person,
            area=self.area or "",
            action=self.action or "",
            object_type=self.object_type or "",
            object_id=self.object_id or "",
            object_text=self.object or "",
            since=_aware(self.since),
            until=_aware(self.until),
            via=self.via or "",
        )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, UTC)


class BreakOut(Schema):
    kind: str = Field(..., description="edited, deleted, reordered, forged, duplicate or unreadable")
    sequence: int
    entry_id: int | None
    expected: str
    found: str
    detail: str


class VerifyOut(Schema):
    ok: bool
    entries: int
    first_sequence: int | None
    last_sequence: int | None
    head_hash: str
    broken: BreakOut | None


@router.get("/audit", response=list[AuditOut], summary="Read the audit trail, newest first")
@paginate(Pagination)
def list_audit(request: HttpRequest, filters: Query[AuditFilter]) -> QuerySet[AuditEntry]:
    ctx = require(request, Scope.AUDIT_READ)
    return filtered(ctx.organization, filters.filters())


@router.get(
    "/audit/export",
    summary="Export the filtered trail with its hashes (JSON lines or CSV)",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "One entry per line (application/x-ndjson), or CSV with a header",
                "content": {"application/x-ndjson": {}, "text/csv": {}},
            }
        }
    },
)
def export_audit(
    request: HttpRequest, filters: Query[AuditFilter], format: Literal["jsonl", "csv"] = "jsonl"
) -> StreamingHttpResponse:
    """Every entry that passes the filters, oldest first (by number), with `sequence`,
    `previous_hash` and `hash`; `tertulia audit verify-file` checks it offline (`--allow-gaps` when
    filtered). Recorded in the trail as `audit.exported`."""
    ctx = require(request, Scope.AUDIT_READ)
    chosen = filters.filters()
    record(
        ctx.actor(request),
        ctx.organization,
        "audit.exported",
        ctx.organization,
        {"format": [None, format], "filters": [None, {k: str(v) for k, v in chosen.query_string().items()}]},
    )
    entries = iter_entries(filtered(ctx.organization, chosen).order_by("sequence"))
    if format == "csv":
        body: Any = csv_lines(
            audit_chain.EXPORT_FIELDS, map(audit_chain.csv_values, entries), reversible=True
        )
        content_type = "text/csv; charset=utf-8"
    else:
        body = map(audit_chain.jsonl_line, entries)
        content_type = "application/x-ndjson; charset=utf-8"
    response = StreamingHttpResponse(body, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{ctx.organization.slug}-{stamp}.{format}"'
    response["Cache-Control"] = "no-store"
    return response


@router.get("/audit/verify", response=VerifyOut, summary="Check the organization's hash chain")
def verify_audit(request: HttpRequest) -> dict[str, Any]:
    """Walks every entry of the organization's chain: OK with counts, or the first broken link."""
    ctx = require(request, Scope.AUDIT_READ)
    (report,) = verify(ctx.organization)
    return report.as_dict()
