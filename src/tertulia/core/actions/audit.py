from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Organization

Changes = dict[str, list[Any]]


def jsonable(value: Any) -> Any:
    """Values as the audit trail stores them: JSON, readable, stable."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def record(
    actor: Actor,
    organization: Organization | None,
    action: str,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    object_type: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        organization=organization,
        actor=actor.user,
        actor_label=actor.label[:255],
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        changes=jsonable(dict(changes or {})),
        via=actor.via,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
    )


def apply_changes(instance: models.Model, values: Mapping[str, Any]) -> Changes:
    """Set fields on `instance` and return `{field: [old, new]}` for those that changed."""
    changes: Changes = {}
    for field, new in values.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [jsonable(old), jsonable(new)]
            setattr(instance, field, new)
    return changes


def snapshot(instance: models.Model, fields: list[str]) -> Changes:
    """The creation record of an object: `{field: [None, value]}`."""
    return {field: [None, jsonable(getattr(instance, field))] for field in fields}
