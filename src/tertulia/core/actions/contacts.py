from __future__ import annotations

from typing import Any

from django.db import transaction

from tertulia.core.actions.audit import apply_changes, record, snapshot
from tertulia.core.actions.context import Actor
from tertulia.core.models import Contact, ContactHandle, Organization
from tertulia.live.publish import notify_organization

CONTACT_FIELDS = ["display_name", "is_customer", "notes"]


@transaction.atomic
def create_contact(actor: Actor, organization: Organization, **values: Any) -> Contact:
    unknown = set(values) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    contact = Contact(organization=organization, **values)
    contact.full_clean()
    contact.save()
    record(actor, organization, "contact.create", contact, snapshot(contact, list(values)))
    notify_organization(organization.pk, "contacts")
    return contact


@transaction.atomic
def update_contact(actor: Actor, contact: Contact, **values: Any) -> Contact:
    unknown = set(values) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    changes = apply_changes(contact, values)
    if changes:
        contact.full_clean()
        contact.save()
        record(actor, contact.organization, "contact.update", contact, changes)
        notify_organization(contact.organization_id, "contacts")
    return contact


@transaction.atomic
def add_handle(
    actor: Actor, contact: Contact, network: str, handle: str, followers_count: int = 0, profile_url: str = ""
) -> ContactHandle:
    item = ContactHandle(
        organization=contact.organization,
        contact=contact,
        network=network,
        handle=handle,
        followers_count=followers_count,
        profile_url=profile_url,
    )
    item.full_clean()
    item.save()
    record(
        actor,
        contact.organization,
        "contact.handle.add",
        contact,
        {"handle": [None, f"{network}:{handle}"], "followers_count": [None, followers_count]},
    )
    notify_organization(contact.organization_id, "contacts")
    return item


@transaction.atomic
def update_handle_reach(actor: Actor, item: ContactHandle, followers_count: int) -> ContactHandle:
    changes = apply_changes(item, {"followers_count": followers_count})
    if changes:
        item.save(update_fields=["followers_count"])
        record(actor, item.organization, "contact.handle.update", item.contact, changes)
    return item


@transaction.atomic
def remove_handle(actor: Actor, item: ContactHandle) -> None:
    record(
        actor,
        item.organization,
        "contact.handle.remove",
        item.contact,
        {"handle": [f"{item.network}:{item.handle}", None]},
    )
    item.delete()
    notify_organization(item.organization_id, "contacts")
