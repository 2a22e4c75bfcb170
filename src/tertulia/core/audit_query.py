"""Filtering an organization's audit trail: the one query behind the audit page, its CSV and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from tertulia.core.audit_areas import AREA_KEYS, area_q
from tertulia.core.models import AuditEntry, Organization

NO_PERSON = "none"  # the `person` filter's value for entries without a person (system, deleted people)


@dataclass(frozen=True)
class AuditFilters:
    person: int | str | None = None  # a user id, or NO_PERSON
    area: str = ""
    action: str = ""  # a name, or a prefix ending in "." or "*"
    object_type: str = ""
    object_id: str = ""
    object_text: str = ""  # part of the object's name as it was recorded
    since: datetime | None = None  # included
    until: datetime | None = None  # excluded
    via: str = ""

    def active(self) -> bool:
        return any(value not in (None, "") for value in self.__dict__.values())

    def query_string(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in (None, "")}


def filtered(organization: Organization, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The organization's entries that pass every filter, newest first (ties: the later number first)."""
    entries = AuditEntry.objects.filter(organization=organization)
    if filters.person == NO_PERSON:
        entries = entries.filter(actor__isnull=True)
    elif filters.person not in (None, ""):
        entries = entries.filter(actor_id=int(str(filters.person)))
    if filters.area in AREA_KEYS:
        entries = entries.filter(area_q(filters.area))
    action = filters.action.strip()
    if action.endswith(("*", ".")):
        entries = entries.filter(action__startswith=action.rstrip("*"))
    elif action:
        entries = entries.filter(action=action)
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_id:
        entries = entries.filter(object_id=filters.object_id)
    if filters.object_text:
        entries = entries.filter(
            Q(object_repr__icontains=filters.object_text) | Q(object_id=filters.object_text)
        )
    if filters.since is not None:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until is not None:
        entries = entries.filter(created_at__lt=filters.until)
    if filters.via:
        entries = entries.filter(via=filters.via)
    return entries.order_by("-created_at", "-sequence")
