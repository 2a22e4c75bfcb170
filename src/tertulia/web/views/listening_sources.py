"""Listen → Sources: the organization's own feeds and Mastodon streams, beside what always counts
(its connected channels, and the installation's Bluesky firehose when the operator switched it on).
Seen with Perm.VIEW; added, paused and removed with Perm.MANAGE_LISTENING.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.core.permissions import Perm
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.actions.sources import add_source, remove_source, set_source_active
from tertulia.listening.models import FirehoseState, ListeningSource, SourceKind
from tertulia.web.tenant import Tenant
from tertulia.web.views.listening import field_errors, require_manage
from tertulia.web.views.sections import section


class SourceForm(forms.Form):
    kind = forms.CharField(required=False)
    url = forms.CharField(required=False, max_length=2_000)
    hashtag = forms.CharField(required=False, max_length=200)
    name = forms.CharField(required=False, max_length=500)


def _source_of(tenant: Tenant, source_id: int) -> ListeningSource:
    return get_object_or_404(ListeningSource, pk=source_id, organization=tenant.organization)


@section("listen", write=Perm.MANAGE_LISTENING)
@require_http_methods(["GET", "POST"])
def sources(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """GET /listen/sources/: the list; POST: add a feed or a Mastodon stream."""
    assert tenant.organization is not None
    values: dict[str, Any] = {"kind": SourceKind.FEED, "url": "", "hashtag": "", "name": ""}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        require_manage(tenant)
        form = SourceForm(request.POST)
        values = {key: request.POST.get(key, "")[:2_000] for key in values}
        if not form.is_valid():
            errors = field_errors(form)
            status = 400
        else:
            data = form.cleaned_data
            try:
                source = add_source(
                    Actor.from_request(request),
                    tenant.organization,
                    kind=data["kind"],
                    url=data["url"],
                    name=data["name"],
                    hashtag=data["hashtag"],
                )
            except ListeningRefused as refused:
                errors[refused.field if refused.field in SourceForm.base_fields else "form"] = refused.message
                status = 400
            else:
                messages.success(request, _("Source “%(name)s” added.") % {"name": source.name})
                return redirect("web:listen-sources")
    firehose = getattr(settings, "TERTULIA_FIREHOSE_URL", "") or ""
    return render(
        request,
        "web/listening/sources.html",
        {
            "section": "listen",
            "sources": ListeningSource.objects.filter(organization=tenant.organization).order_by("name"),
            "channels": tenant.restrict(Channel.objects.all())
            .select_related("brand")
            .order_by("network", "handle"),
            "firehose": firehose,
            "firehose_state": FirehoseState.objects.filter(service=firehose).first() if firehose else None,
            "kinds": SourceKind.choices,
            "values": values,
            "errors": errors,
            "can_manage": tenant.can(Perm.MANAGE_LISTENING),
        },
        status=status,
    )


@section("listen", write=Perm.MANAGE_LISTENING)
@require_POST
def source_active(request: HttpRequest, tenant: Tenant, source_id: int) -> HttpResponse:
    """POST /listen/sources/<id>/active/ with active=1 (resume) or 0 (pause)."""
    require_manage(tenant)
    source = _source_of(tenant, source_id)
    active = request.POST.get("active") == "1"
    try:
        set_source_active(Actor.from_request(request), source, active)
    except ListeningRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            (_("“%(name)s” is read again.") if active else _("“%(name)s” is paused."))
            % {"name": source.name},
        )
    return redirect("web:listen-sources")


@section("listen", write=Perm.MANAGE_LISTENING)
@require_POST
def source_remove(request: HttpRequest, tenant: Tenant, source_id: int) -> HttpResponse:
    """POST /listen/sources/<id>/remove/: it stops; the mentions it brought in stay."""
    require_manage(tenant)
    source = _source_of(tenant, source_id)
    try:
        remove_source(Actor.from_request(request), source)
    except ListeningRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Source “%(name)s” removed.") % {"name": source.name})
    return redirect("web:listen-sources")
