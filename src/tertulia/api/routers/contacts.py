"""Contacts: the people the organization's brands talk with, and their handles on networks."""

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import (
    ContactIn,
    ContactMergeIn,
    ContactOut,
    ContactPatch,
    ContactProfileOut,
    HandleIn,
    HandleOut,
    ObjectId,
    Text,
)
from tertulia.api.scopes import Scope
from tertulia.core.actions import contacts as actions
from tertulia.core.models import Channel, Contact, ContactHandle, Organization
from tertulia.core.permissions import operable_channels
from tertulia.inbox.profiles import ContactProfile, contact_profile

router = Router(tags=["contacts"])


class ContactFilter(Schema):
    q: Text | None = Field(None, max_length=200, description="Matches the name or any handle.")
    is_customer: bool | None = None


def _contacts(organization: Organization) -> QuerySet[Contact]:
    return Contact.objects.filter(organization=organization).prefetch_related("handles")


@router.get("/contacts", response=list[ContactOut], summary="List and search contacts")
@paginate(Pagination)
def list_contacts(request: HttpRequest, filters: Query[ContactFilter]) -> QuerySet[Contact]:
    ctx = require(request, Scope.CONTACTS_READ)
    contacts = _contacts(ctx.organization).order_by("display_name", "id")
    if filters.q:
        matching = ContactHandle.objects.filter(organization=ctx.organization, handle__icontains=filters.q)
        contacts = contacts.filter(
            Q(display_name__icontains=filters.q) | Q(pk__in=matching.values("contact_id"))
        )
    if filters.is_customer is not None:
        contacts = contacts.filter(is_customer=filters.is_customer)
    return contacts


@router.get("/contacts/{contact_id}", response=ContactOut, summary="One contact")
def get_contact(request: HttpRequest, contact_id: ObjectId) -> Contact:
    ctx = require(request, Scope.CONTACTS_READ)
    return get_object_or_404(_contacts(ctx.organization), pk=contact_id)


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[Contact]:
    ctx = require(request, Scope.CONTACTS_WRITE)
    contact = actions.create_contact(ctx.actor(request), ctx.organization, **payload.model_dump())
    return Status(201, get_object_or_404(_contacts(ctx.organization), pk=contact.pk))


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Change a contact")
def update_contact(request: HttpRequest, contact_id: ObjectId, payload: ContactPatch) -> Contact:
    ctx = require(request, Scope.CONTACTS_WRITE)
    contact = get_object_or_404(_contacts(ctx.organization), pk=contact_id)
    actions.update_contact(ctx.actor(request), contact, **payload.model_dump(exclude_unset=True))
    return get_object_or_404(_contacts(ctx.organization), pk=contact.pk)


@router.post("/contacts/{contact_id}/handles", response={201: HandleOut}, summary="Add a handle to a contact")
def add_handle(request: HttpRequest, contact_id: ObjectId, payload: HandleIn) -> Status[ContactHandle]:
    ctx = require(request, Scope.CONTACTS_WRITE)
    contact = get_object_or_404(_contacts(ctx.organization), pk=contact_id)
    return Status(201, actions.add_handle(ctx.actor(request), contact, **payload.model_dump()))


@router.delete(
    "/contacts/{contact_id}/handles/{handle_id}",
    response={204: None},
    summary="Remove a handle from a contact",
)
def remove_handle(request: HttpRequest, contact_id: ObjectId, handle_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.CONTACTS_WRITE)
    item = get_object_or_404(
        ContactHandle.objects.filter(organization=ctx.organization, contact_id=contact_id).select_related(
            "contact", "organization"
        ),
        pk=handle_id,
    )
    actions.remove_handle(ctx.actor(request), item)
    return Status(204, None)


class ProfileQuery(Schema):
    brand: int = Field(
        ..., ge=1, le=2**63 - 1, description="The brand whose history with the person to read."
    )


@router.get(
    "/contacts/{contact_id}/profile",
    response=ContactProfileOut,
    summary="A contact's profile for one brand: handles, reach, flags and history",
)
def get_contact_profile(
    request: HttpRequest, contact_id: ObjectId, params: Query[ProfileQuery]
) -> ContactProfile:
    ctx = require(request, Scope.CONTACTS_READ)
    contact = get_object_or_404(_contacts(ctx.organization), pk=contact_id)
    brand = get_object_or_404(ctx.brands(), pk=params.brand)
    # Figures cover the whole history; the conversations listed (their text) only channels the owner operates.
    channels = operable_channels(ctx.user, ctx.organization, list(Channel.objects.filter(brand=brand)))
    return contact_profile(contact, brand, channels=channels)


@router.post(
    "/contacts/{contact_id}/merge",
    response=ContactOut,
    summary="Merge another contact (the same person) into this one",
)
def merge_contact(request: HttpRequest, contact_id: ObjectId, payload: ContactMergeIn) -> Contact:
    ctx = require(request, Scope.CONTACTS_WRITE)
    into = get_object_or_404(_contacts(ctx.organization), pk=contact_id)
    other = get_object_or_404(_contacts(ctx.organization), pk=payload.other)
    try:
        actions.merge_contacts(ctx.actor(request), into, other, payload.reason)
    except actions.MergeRefused as exc:
        raise ApiError(422, str(exc), "merge_refused") from None
    return get_object_or_404(_contacts(ctx.organization), pk=into.pk)
