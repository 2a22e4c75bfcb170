from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import apply_changes, record, snapshot
from tertulia.core.actions.context import Actor
from tertulia.core.models import Contact, ContactHandle, Organization
from tertulia.live.publish import notify_organization

CONTACT_FIELDS = ["display_name", "is_customer", "is_vip", "notes"]


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


# ---------------------------------------------------------------- one person across networks


class MergeRefused(ValueError):
    """Two contacts cannot be merged as asked; the message says why, in the person's language."""


MAX_REASON = 255


def _moved_relations(other: Contact, into: Contact) -> dict[str, int]:
    """Point every row that refers to `other` at `into`; how many rows moved, by model.

    Generic on purpose: handles (core), conversations (inbox) and whatever later refers to a
    contact follow it, without core importing the apps that hold them. Only many-to-one links
    exist today; anything else must be taught here before it can be merged safely.
    """
    moved: dict[str, int] = {}
    for relation in Contact._meta.related_objects:
        if not relation.one_to_many:
            raise NotImplementedError(f"merging contacts does not know how to move {relation.name}")
        related: type[models.Model] = relation.related_model  # type: ignore[assignment]  # a model class, not "self"
        name = relation.field.name
        count = related._default_manager.filter(**{name: other}).update(**{name: into})
        if count:
            moved[related._meta.label_lower] = count
    return moved


def _merged_notes(into: str, other: str) -> str:
    if not other.strip() or other.strip() in into:
        return into
    if not into.strip():
        return other
    return f"{into.rstrip()}\n\n{other.strip()}"


@transaction.atomic
def merge_contacts(actor: Actor, into: Contact, other: Contact, reason: str = "") -> Contact:
    """`other` is the same person as `into`: their handles, conversations and flags move to `into`,
    and `other` is deleted. Irreversible, hence audited with the reason given.

    `into` keeps its name; it becomes a customer or VIP if either was; notes are put together.
    """
    if into.pk == other.pk:
        raise MergeRefused(_("A contact cannot be merged into itself."))
    if into.organization_id != other.organization_id:
        raise MergeRefused(_("Only contacts of the same organization can be merged."))
    # Re-read both under a row lock: two people merging the same pair must not both succeed.
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[into.pk, other.pk])}
    if len(locked) != 2:
        raise MergeRefused(_("The contact no longer exists."))
    into, other = locked[into.pk], locked[other.pk]
    handles = [f"{h.network}:{h.handle}" for h in other.handles.order_by("network", "handle")]
    moved = _moved_relations(other, into)
    changes = apply_changes(
        into,
        {
            "is_customer": into.is_customer or other.is_customer,
            "is_vip": into.is_vip or other.is_vip,
            "notes": _merged_notes(into.notes, other.notes),
        },
    )
    into.full_clean()
    into.save()
    record(
        actor,
        into.organization,
        "contact.merge",
        into,
        {
            **changes,
            "merged": {
                "id": other.pk,
                "display_name": other.display_name,
                "handles": handles,
                "moved": moved,
            },
            "reason": reason[:MAX_REASON],
        },
    )
    other.delete()
    notify_organization(into.organization_id, "contacts")
    if set(moved) - {"core.contacthandle"}:
        notify_organization(into.organization_id, "inbox")
    return into


@transaction.atomic
def link_handle(actor: Actor, item: ContactHandle, into: Contact, reason: str = "") -> ContactHandle:
    """Say one handle belongs to another person: it moves to `into`, with the conversations it started.

    The handle's former contact stays (with its other handles and conversations), even if it is now
    empty: merging the whole contact is `merge_contacts`.
    """
    if item.organization_id != into.organization_id:
        raise MergeRefused(_("A handle can only be linked to a contact of the same organization."))
    previous = item.contact
    if previous.pk == into.pk:
        return item
    # Conversations follow the handle when only it, of the former contact's handles, wrote in them
    # (through the reverse accessors: core does not import the inbox).
    others = previous.handles.exclude(pk=item.pk)
    moved = (
        previous.conversations.filter(messages__author=item)
        .exclude(messages__author__in=others)
        .update(contact=into)
    )
    item.contact = into
    item.save(update_fields=["contact"])
    record(
        actor,
        into.organization,
        "contact.handle.link",
        into,
        {
            "handle": [None, f"{item.network}:{item.handle}"],
            "contact": [previous.pk, into.pk],
            "conversations": moved,
            "reason": reason[:MAX_REASON],
        },
    )
    notify_organization(into.organization_id, "contacts")
    if moved:
        notify_organization(into.organization_id, "inbox")
    return item
