"""A contact's page: who the person is to the current brand, what the team knows, and merging duplicates.

Viewing needs `Perm.VIEW_CONTACTS`, changing `Perm.EDIT_CONTACTS`. A contact of another organization
is "not found". Conversations listed are only those on channels the reader may operate (the rule of
every inbox page); the figures cover the whole history.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.contacts import MergeRefused, merge_contacts, update_contact
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel, Contact, ContactHandle
from tertulia.core.permissions import Perm, operable_channels
from tertulia.inbox.profiles import REGULAR_CONVERSATIONS, REGULAR_WINDOW, contact_profile
from tertulia.web.forms_contacts import MAX_ID, ContactForm, FindContactForm, MergeForm
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

CANDIDATES = 10


def _contact(tenant: Tenant, contact_id: int) -> Contact:
    return get_object_or_404(
        Contact.objects.filter(organization=tenant.organization).prefetch_related("handles"), pk=contact_id
    )


def _candidates(tenant: Tenant, contact: Contact, query: str) -> QuerySet[Contact]:
    """Other contacts of the organization matching `query` (a name, a handle, or a contact's number)."""
    query = query.strip().lstrip("#@")
    contacts = Contact.objects.filter(organization=tenant.organization).exclude(pk=contact.pk)
    if not query:
        return contacts.none()
    handles = ContactHandle.objects.filter(organization=tenant.organization, handle__icontains=query)
    matching = Q(display_name__icontains=query) | Q(pk__in=handles.values("contact_id"))
    if query.isdigit() and int(query) <= MAX_ID:
        matching |= Q(pk=int(query))
    return contacts.filter(matching).prefetch_related("handles").order_by("display_name", "pk")[:CANDIDATES]


def _page(
    request: HttpRequest,
    tenant: Tenant,
    contact: Contact,
    form: ContactForm,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    profile = None
    hidden_channels = 0
    if tenant.brand is not None and tenant.organization is not None:
        channels = list(Channel.objects.filter(brand=tenant.brand))
        visible = operable_channels(signed_in_user(request), tenant.organization, channels)
        hidden_channels = len(channels) - len(visible)
        profile = contact_profile(contact, tenant.brand, channels=visible)
    can_edit = tenant.can(Perm.EDIT_CONTACTS)
    if not can_edit:
        form.disable()
    find = FindContactForm(request.GET)
    query = find.cleaned_data["q"] if can_edit and find.is_valid() else ""
    context = {
        "section": "inbox",
        "contact": contact,
        "profile": profile,
        "hidden_channels": hidden_channels,
        "regular_conversations": REGULAR_CONVERSATIONS,
        "regular_days": REGULAR_WINDOW.days,
        "form": form,
        "find": find,
        "query": query,
        "candidates": extra.pop("candidates", None) or (_candidates(tenant, contact, query) if query else []),
        **extra,
    }
    return render(request, "web/contact.html", context, status=status)


@section("inbox", Perm.VIEW_CONTACTS, write=Perm.EDIT_CONTACTS)
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, tenant: Tenant, contact_id: int) -> HttpResponse:
    found = _contact(tenant, contact_id)
    if request.method != "POST":
        return _page(request, tenant, found, ContactForm(contact=found))
    if not tenant.can(Perm.EDIT_CONTACTS):
        raise PermissionDenied
    form = ContactForm(request.POST, contact=found)
    if form.is_valid():
        try:
            update_contact(Actor.from_request(request), found, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("web:contact", contact_id=found.pk)
    return _page(request, tenant, found, form, status=400)


@section("inbox", Perm.EDIT_CONTACTS)
@require_POST
def merge(request: HttpRequest, tenant: Tenant, contact_id: int) -> HttpResponse:
    """Link another contact into this one: the same person, found under two names or networks."""
    into = _contact(tenant, contact_id)
    form = MergeForm(request.POST)
    if not form.is_valid():
        # Show the form again next to the contact that was picked, with what is missing.
        picked: int = form.cleaned_data.get("other") or 0
        others = Contact.objects.filter(organization=tenant.organization, pk=picked).exclude(pk=into.pk)
        return _page(
            request,
            tenant,
            into,
            ContactForm(contact=into),
            status=400,
            merge_form=form,
            candidates=list(others.prefetch_related("handles")) if picked else [],
        )
    other = _contact(tenant, form.cleaned_data["other"])
    name = other.display_name
    try:
        into = merge_contacts(Actor.from_request(request), into, other, form.cleaned_data["reason"])
    except MergeRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("%(other)s was merged into %(contact)s.") % {"other": name, "contact": into}
        )
    return redirect("web:contact", contact_id=into.pk)
