"""Team → Access review (and its CSV) and Team → Backup coverage; the "reconnect" and "covered
anyway" buttons they offer. Both pages need `Perm.VIEW_AUDIT` (owners, administrators and brand
managers who work in every brand: docs/governance.md says why)."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tertulia.connectors.registry import connector_class
from tertulia.core.actions.channels import set_channel_status
from tertulia.core.actions.context import Actor
from tertulia.core.csvsafe import csv_lines
from tertulia.core.models import Brand, Channel, ChannelStatus, Role
from tertulia.core.permissions import Perm, may_access_brand
from tertulia.governance import access_review, coverage
from tertulia.governance.actions.coverage import WaiverRefused, remove_waiver, waive
from tertulia.governance.models import CoverageWaiver
from tertulia.web.tenant import SESSION_BRAND, Tenant, signed_in_user
from tertulia.web.views.sections import View, section


def _filters(request: HttpRequest, tenant: Tenant) -> access_review.Filters:
    assert tenant.organization is not None
    return access_review.Filters.from_query(request.GET.dict(), tenant.organization)


@section("team", Perm.VIEW_AUDIT)
@require_GET
def access(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    assert tenant.organization is not None
    filters = _filters(request, tenant)
    everyone = access_review.rows(tenant.organization)
    shown = access_review.apply(everyone, filters)
    return render(
        request,
        "web/governance/access_review.html",
        {
            "section": "team",
            "rows": shown,
            "total": len(everyone),
            "filters": filters,
            "roles": Role.choices,
            "brands": Brand.objects.filter(organization=tenant.organization).order_by("name"),
            "channels": Channel.objects.filter(organization=tenant.organization).order_by(
                "network", "handle"
            ),
            "idle_choices": access_review.IDLE_CHOICES,
            "query": request.GET.urlencode(),
        },
    )


def _access_csv(request: HttpRequest, tenant: Tenant) -> StreamingHttpResponse:
    """GET /team/access.csv?<the page's filters>: the rows on the page, streamed."""
    assert tenant.organization is not None
    shown = access_review.apply(access_review.rows(tenant.organization), _filters(request, tenant))
    # csv_lines defuses cells a spreadsheet would run as formulas (=, +, -, @...), names included.
    lines = csv_lines(access_review.csv_header(), access_review.csv_values(shown))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = (
        f'attachment; filename="access-review-{tenant.organization.pk}-{stamp}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response


access_csv = section("team", Perm.VIEW_AUDIT)(require_GET(cast("View", _access_csv)))


@section("team", Perm.VIEW_AUDIT)
@require_GET
def coverage_page(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    assert tenant.organization is not None
    found = coverage.gaps(tenant.organization)
    channels = coverage.covered_channels(tenant.organization)
    waivers = CoverageWaiver.objects.filter(organization=tenant.organization).select_related(
        "channel", "connected_by", "created_by"
    )
    return render(
        request,
        "web/governance/coverage.html",
        {
            "section": "team",
            "gaps": found,
            "channel_count": len(channels),
            "gap_channels": len({gap.channel.pk for gap in found}),
            "waivers": waivers,
            "personal_networks": sorted(
                connector_class(name).display_name for name in coverage.personal_networks()
            ),
        },
    )


def _managed_channel(request: HttpRequest, tenant: Tenant, channel_id: int) -> Channel:
    channel = get_object_or_404(
        Channel.objects.select_related("brand", "organization"),
        pk=channel_id,
        organization=tenant.organization,
    )
    if not may_access_brand(signed_in_user(request), channel.brand, Perm.MANAGE_CHANNELS):
        raise Http404  # a brand they do not work in is as if it did not exist
    return channel


@section("team", Perm.MANAGE_CHANNELS, write=Perm.MANAGE_CHANNELS)
@require_POST
def waiver(request: HttpRequest, tenant: Tenant, channel_id: int) -> HttpResponse:
    """POST note=...: covered anyway; POST remove=1: the gap counts again."""
    channel = _managed_channel(request, tenant, channel_id)
    actor = Actor.from_request(request)
    try:
        if request.POST.get("remove"):
            remove_waiver(actor, channel)
            messages.success(request, _("@%(handle)s counts as a gap again.") % {"handle": channel.handle})
        else:
            waive(actor, channel, request.POST.get("note", "")[:2000])
            messages.success(request, _("Noted how @%(handle)s is covered.") % {"handle": channel.handle})
    except WaiverRefused as exc:
        messages.error(request, str(exc))
    return redirect(reverse("web:coverage") + "#waivers")


@section("team", Perm.MANAGE_CHANNELS, write=Perm.MANAGE_CHANNELS)
@require_POST
def reconnect(request: HttpRequest, tenant: Tenant, channel_id: int) -> HttpResponse:
    """Start a reconnect (or a credential rotation): mark the channel as needing one, so signing in
    again replaces its credentials, and open the channels page of its brand at its network's form."""
    channel = _managed_channel(request, tenant, channel_id)
    if channel.status == ChannelStatus.ACTIVE:
        set_channel_status(Actor.from_request(request), channel, ChannelStatus.NEEDS_RECONNECT)
    request.session[SESSION_BRAND] = channel.brand_id
    messages.info(
        request,
        _("Sign in to @%(handle)s again below, with an account the organization controls.")
        % {"handle": channel.handle},
    )
    return redirect(reverse("web:channels") + f"#connect-{channel.network}")
