"""Surge detection settings in the web app: what the detector watches for each brand (its inbound
messages, each active listening query), how sensitive each watch is (changed by people who manage the
brand; audited), what it has learned, and the recent surges with their explanation
(docs/crisis-detection.md).

Thin: look up within what the person may see (else 404), call tertulia.crisis.detection.settings (which
checks permissions again), say what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization
from tertulia.core.permissions import Perm
from tertulia.crisis.detection import settings as detection
from tertulia.crisis.detection.baseline import Baseline
from tertulia.crisis.models import Sensitivity, Surge, Watch
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section


@dataclass(frozen=True)
class WatchRow:
    watch: Watch
    learning: bool
    peak_per_hour: float
    negative_share: float
    may_change: bool


def _org(tenant: Tenant) -> Organization:
    assert tenant.organization is not None  # the section decorator guarantees it
    return tenant.organization


def _row(watch: Watch, changeable: set[int]) -> WatchRow:
    baseline = Baseline.from_json(watch.baseline)
    profile = baseline.daily_profile()
    return WatchRow(
        watch=watch,
        learning=not baseline.ready,
        peak_per_hour=max(profile) if profile else 0.0,
        negative_share=baseline.negative_share,
        may_change=watch.brand_id in changeable,
    )


@section("crisis")
@require_GET
def detection_settings(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    user = signed_in_user(request)
    watches = detection.watches_for(user, _org(tenant)).filter(is_active=True)
    changeable = detection.changeable_brands(user, _org(tenant))
    surges: list[Surge] = list(detection.surges_for(user, _org(tenant))[: detection.RECENT_SURGES])
    return render(
        request,
        "web/crisis/detection_settings.html",
        {
            "section": "crisis",
            "rows": [_row(watch, changeable) for watch in watches],
            "surges": surges,
            "sensitivities": Sensitivity.choices,
        },
    )


@section("crisis", write=Perm.MANAGE_BRANDS)
@require_POST
def detection_sensitivity(request: HttpRequest, tenant: Tenant, watch_id: int) -> HttpResponse:
    watch = get_object_or_404(detection.watches_for(signed_in_user(request), _org(tenant)), pk=watch_id)
    try:
        detection.set_sensitivity(Actor.from_request(request), watch, request.POST.get("sensitivity", ""))
    except detection.SensitivityRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Sensitivity saved."))
    return redirect("web:crisis-detection")
