"""A post's page: what was written, where it goes, and what happened on each channel."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.permissions import Perm
from tertulia.publishing.access import get_post, get_target
from tertulia.publishing.actions.delivery import DeliveryRefused, cancel_post, confirm_published, retry_target
from tertulia.publishing.models import DeliveryTarget
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section


@require_GET
@section("publish")
def post_detail(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    assert tenant.organization is not None
    post = get_post(signed_in_user(request), tenant.organization, post_id)
    targets = (
        DeliveryTarget.objects.filter(post=post)
        .select_related("channel")
        .prefetch_related("history")
        .order_by("channel__network", "channel__handle")
    )
    return render(
        request,
        "web/post_detail.html",
        {
            "section": "publish",
            "post": post,
            "targets": targets,
            "can_publish": tenant.can(Perm.PUBLISH_POSTS),
        },
    )


@require_POST
@section("publish", Perm.PUBLISH_POSTS)
def target_action(request: HttpRequest, tenant: Tenant, target_id: int) -> HttpResponse:
    assert tenant.organization is not None
    target = get_target(signed_in_user(request), tenant.organization, target_id)
    actor = Actor.from_request(request)
    try:
        if request.POST.get("action") == "confirm":
            confirm_published(actor, target, request.POST.get("url", "")[:500])
        else:
            retry_target(actor, target)
    except DeliveryRefused as refused:
        messages.error(request, str(refused))
    return redirect("web:post-detail", target.post_id)


@require_POST
@section("publish", Perm.PROPOSE_POSTS)
def post_cancel(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    assert tenant.organization is not None
    post = get_post(signed_in_user(request), tenant.organization, post_id)
    try:
        cancel_post(Actor.from_request(request), post)
    except DeliveryRefused as refused:
        messages.error(request, str(refused))
    return redirect("web:post-detail", post.pk)
