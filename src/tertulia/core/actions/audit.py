"""Writing the audit trail (hash-chained, append-only) and checking its chains.

`record` is the one way in: every entry gets the next number in its organization's chain (or the
installation's, without organization), the hash of the entry before it, and its own hash over its
canonical record (`tertulia.core.audit_chain`, docs/audit.md).

Concurrency: appending locks the chain's head row (`AuditChain`) until the surrounding transaction
ends — SELECT ... FOR UPDATE on PostgreSQL; on SQLite every write transaction already holds the
database's write lock (IMMEDIATE transactions). So two workers never take the same number, and
audited transactions of one organization queue behind each other from their first `record` to
their commit: record last, after the transaction's other writes, and keep network calls out of
audited transactions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import connection, models, transaction
from django.utils import timezone

from tertulia.core import audit_chain
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditChain, AuditEntry, Organization
from tertulia.core.models.audit import chain_key

Changes = dict[str, list[Any]]

# What the walk reads of each entry, in this order (`_as_entry` turns a row into the export fields).
ROW_FIELDS = (
    "id",
    "organization_id",
    "sequence",
    "previous_hash",
    "hash",
    "created_at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "via",
    "ip_address",
    "user_agent",
    "actor_id",
)
WALK_BATCH = 5_000


def jsonable(value: Any) -> Any:
    """Values as the audit trail stores them: JSON, readable, stable."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def entry_for(
    actor: Actor,
    organization: Organization | int | None,
    action: str,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    object_type: str = "",
) -> AuditEntry:
    """An unsaved entry (for `record_many`); `record` is this plus the append."""
    organization_id = organization.pk if isinstance(organization, Organization) else organization
    return AuditEntry(
        organization_id=organization_id,
        actor=actor.user,
        actor_label=actor.label[:255],
        action=action[:64],
        object_type=(object_type or (obj._meta.label_lower if obj is not None else ""))[:64],
        object_id=str(obj.pk)[:64] if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        changes=jsonable(dict(changes or {})),
        via=actor.via[:16],
        ip_address=_stored_ip(actor.ip_address),
        user_agent=(actor.user_agent or "")[:255],
    )


def record(
    actor: Actor,
    organization: Organization | None,
    action: str,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    object_type: str = "",
) -> AuditEntry:
    """Append one entry to the organization's chain (in the caller's transaction, if any)."""
    entry = entry_for(actor, organization, action, obj, changes, object_type)
    append([entry])
    if isinstance(organization, Organization):
        entry.organization = organization
    return entry


def record_many(entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Append many entries (from `entry_for`) in one insert; they may belong to several chains."""
    append(entries)
    return list(entries)


def _stored_ip(value: str | None) -> str | None:
    """The address as the database will give it back (Django's own normalisation of IPv6)."""
    if not value:
        return None
    field = AuditEntry._meta.get_field("ip_address")
    prepared = field.get_prep_value(value)
    return str(prepared) if prepared else None


# Raw SQL on the hot path: three short statements per chain, not the ORM's overhead on each.
_SELECT_HEAD = 'SELECT id, length, head_hash FROM core_auditchain WHERE "key" = %s'
_INSERT_HEAD = (
    'INSERT INTO core_auditchain ("key", organization_id, length, head_hash) VALUES (%s, %s, 0, %s) '
    "ON CONFLICT DO NOTHING"
)
_UPDATE_HEAD = "UPDATE core_auditchain SET length = %s, head_hash = %s WHERE id = %s"


def _lock_head(cursor: Any, key: str, organization_id: int | None) -> list[Any]:
    """The chain's head row [id, length, head_hash], locked until the transaction ends (PostgreSQL:
    FOR UPDATE; SQLite: the transaction already holds the database's write lock). A chain's first
    entry creates it; of two first entries at once, one insert wins and the other does nothing
    (on PostgreSQL it waits for the winner's commit), then both lock the one row."""
    select = _SELECT_HEAD + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    cursor.execute(select, [key])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(_INSERT_HEAD, [key, organization_id, audit_chain.GENESIS])
        cursor.execute(select, [key])
        row = cursor.fetchone()
    return list(row)


def append(entries: Sequence[AuditEntry]) -> None:
    """Number, hash and insert `entries`, chain by chain (heads locked in a fixed order)."""
    if not entries:
        return
    by_chain: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        by_chain.setdefault(chain_key(entry.organization_id), []).append(entry)
    with transaction.atomic(), connection.cursor() as cursor:
        heads = []
        for key in sorted(by_chain):
            chained = by_chain[key]
            head = _lock_head(cursor, key, chained[0].organization_id)
            # The time is taken under the lock, so times never go back along a chain (one clock).
            now = timezone.now()
            for entry in chained:
                entry.created_at = now
                entry.sequence = head[1] + 1
                entry.previous_hash = head[2]
                entry.hash = audit_chain.entry_hash(_as_entry(entry))
                head[1], head[2] = entry.sequence, entry.hash
            heads.append(head)
        AuditEntry.objects.bulk_create(entries)
        for pk, length, head_hash in heads:
            cursor.execute(_UPDATE_HEAD, [length, head_hash, pk])


def _as_entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "organization": entry.organization_id,
        "sequence": entry.sequence,
        "previous_hash": entry.previous_hash,
        "hash": entry.hash,
        "created_at": entry.created_at,
        "actor": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "via": entry.via,
        "ip_address": entry.ip_address,
        "user_agent": entry.user_agent,
        "actor_id": entry.actor_id,
    }


def row_entry(row: Sequence[Any]) -> dict[str, Any]:
    """A `values_list(*ROW_FIELDS)` row as the export fields (what `audit_chain` reads)."""
    (
        pk,
        organization_id,
        sequence,
        previous_hash,
        stored_hash,
        created_at,
        actor_label,
        action,
        object_type,
        object_id,
        object_repr,
        changes,
        via,
        ip_address,
        user_agent,
        actor_id,
    ) = row
    return {
        "id": pk,
        "organization": organization_id,
        "sequence": sequence,
        "previous_hash": previous_hash,
        "hash": stored_hash,
        "created_at": created_at,
        "actor": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "changes": changes,
        "via": via,
        "ip_address": ip_address,
        "user_agent": user_agent,
        "actor_id": actor_id,
    }


def export_entry(entry: AuditEntry) -> dict[str, Any]:
    """A saved entry as the export fields."""
    return _as_entry(entry)


# --- reading a chain -----------------------------------------------------------------------------


def chain_entries(organization_id: int | None) -> models.QuerySet[AuditEntry]:
    if organization_id is None:
        return AuditEntry.objects.filter(organization__isnull=True)
    return AuditEntry.objects.filter(organization_id=organization_id)


def iter_chain(
    organization_id: int | None, first: int = 1, last: int | None = None, batch: int = WALK_BATCH
) -> Iterator[dict[str, Any]]:
    """A chain's entries from number `first` to `last`, in order, read in batches by number."""
    entries = chain_entries(organization_id)
    after = first - 1
    while True:
        page = entries.filter(sequence__gt=after)
        if last is not None:
            page = page.filter(sequence__lte=last)
        rows = list(page.order_by("sequence").values_list(*ROW_FIELDS)[:batch])
        for row in rows:
            yield row_entry(row)
        if len(rows) < batch:
            return
        after = rows[-1][2]


def _lookup(organization_id: int | None) -> audit_chain.Lookup:
    def find(stored_hash: str) -> dict[str, Any] | None:
        row = chain_entries(organization_id).filter(hash=stored_hash).values_list(*ROW_FIELDS).first()
        return None if row is None else row_entry(row)

    return find


def chains(organization_id: int | str | None = "all") -> list[int | None]:
    """The chains to check: every organization's with a head or entries, and the installation's (None);
    or just `organization_id` (an id, or None for the installation chain)."""
    if organization_id != "all":
        return [organization_id if organization_id is None else int(organization_id)]
    found: set[int | None] = set(AuditChain.objects.values_list("organization_id", flat=True))
    # Entries without a head row too (a head deleted with the triggers dropped): the walk reports them.
    found |= set(AuditEntry.objects.order_by().values_list("organization_id", flat=True).distinct())
    return sorted(found, key=lambda o: (o is not None, o or 0))


def verify_chain(organization_id: int | None) -> audit_chain.ChainReport:
    """Walk one chain up to its head (entries appended meanwhile are left for the next run)."""
    entries = chain_entries(organization_id)
    # The last number first, then the head: an append writes both in one transaction, so the head
    # read second is at least as long, unless rows were added behind the chain's back.
    last_in_table = entries.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    head = AuditChain.objects.filter(key=chain_key(organization_id)).first()
    length = head.length if head is not None else 0
    head_hash = head.head_hash if head is not None else audit_chain.GENESIS
    report = audit_chain.walk(
        iter_chain(organization_id, last=length if last_in_table <= length else None),
        organization_id,
        lookup=_lookup(organization_id),
        head_length=length,
        head_hash=head_hash,
    )
    report.label = _label(organization_id)
    return report


def _label(organization_id: int | None) -> str:
    if organization_id is None:
        return "installation chain (no organization)"
    slug = Organization.objects.filter(pk=organization_id).values_list("slug", flat=True).first()
    return f"organization {slug} (id {organization_id})" if slug else f"organization id {organization_id}"


def verify(organization: Organization | str | None = "all") -> list[audit_chain.ChainReport]:
    """Check every chain, or one organization's (an Organization, or None for the installation's)."""
    target: int | str | None = organization.pk if isinstance(organization, Organization) else organization
    return [verify_chain(organization_id) for organization_id in chains(target)]


def export_segment(
    organization: Organization, since: datetime | None = None, until: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """An organization's entries from `since` (included) to `until` (excluded), as one unbroken run
    of numbers (the first entry at or after `since` to the last before `until`), so the export can
    be verified as a segment of the chain."""
    entries = chain_entries(organization.pk)
    first, last = 1, None
    if since is not None:
        found = entries.filter(created_at__gte=since).order_by("sequence").values_list("sequence", flat=True)
        start = found.first()
        if start is None:
            return
        first = start
    if until is not None:
        found = entries.filter(created_at__lt=until).order_by("-sequence").values_list("sequence", flat=True)
        end = found.first()
        if end is None or end < first:
            return
        last = end
    yield from iter_chain(organization.pk, first, last)


def iter_entries(entries: models.QuerySet[AuditEntry], batch: int = 2_000) -> Iterable[dict[str, Any]]:
    """A filtered list (the page's CSV, the API's export) as export fields, in its own order."""
    for row in entries.values_list(*ROW_FIELDS).iterator(chunk_size=batch):
        yield row_entry(row)


def delete_organization(actor: Actor, organization: Organization) -> dict[str, Any]:
    """Delete an organization and everything it owns, its audit trail included: the one deletion the
    trail's triggers let through (`tertulia delete-organization`). What is gone stays provable: an
    entry in the installation chain keeps the organization's chain length and last hash, so an export
    made before can still be checked against it."""
    from tertulia.core.audit_db import erasure

    with transaction.atomic():
        head = AuditChain.objects.select_for_update().filter(organization=organization).first()
        summary = {
            "entries": head.length if head is not None else 0,
            "head_hash": head.head_hash if head is not None else audit_chain.GENESIS,
        }
        record(
            actor,
            None,
            "organization.delete",
            organization,
            {
                "name": [organization.name, None],
                "slug": [organization.slug, None],
                "audit_entries": [summary["entries"], None],
                "audit_head_hash": [summary["head_hash"], None],
            },
        )
        with erasure(organization.pk):
            organization.delete()
    return summary


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
