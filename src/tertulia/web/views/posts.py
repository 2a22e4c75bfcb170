"""Posts on the web: the brand's list (/publish/), and a post's page with its review and deliveries.

A post's page shows what was written, per channel what goes out, the images, the review (the step it
waits on, who approves it, decisions and the discussion) and what happened on each channel. Its
buttons appear as the person's permissions and the post's state allow, and every action behind
them checks both again (`tertulia.publishing.actions.*`): a refusal comes back on the page, with
what the person typed kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.permissions import Perm
from tertulia.publishing import approvals
from tertulia.publishing.access import get_post, get_target
from tertulia.publishing.actions import review, scheduling
from tertulia.publishing.actions.compose import (
    EDITABLE,
    REOPENED_BY_EDIT,
    ComposeRefused,
    duplicate_post,
    may_edit,
    may_write,
)
from tertulia.publishing.actions.delivery import (
    DeliveryRefused,
    cancel_post,
    confirm_published,
    retry_is_blind,
    retry_target,
)
from tertulia.publishing.models import (
    ApprovalDecision,
    DeliveryTarget,
    Post,
    PostComment,
    PostMedia,
    PostState,
)
from tertulia.publishing.rules.placements import Placement
from tertulia.publishing.verdicts import post_verdicts
from tertulia.web.forms_compose import ScheduleForm, brand_zone, local_input
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.compose import HELD_MESSAGE, preview_segments, verdict_views
from tertulia.web.views.media import crop_classes
from tertulia.web.views.sections import section

PER_PAGE = 50


@dataclass(frozen=True)
class StateFilter:
    label: Promise
    states: tuple[str, ...]


STATE_FILTERS: dict[str, StateFilter] = {
    "drafts": StateFilter(_lazy("Drafts"), (PostState.DRAFT, PostState.CHANGES_REQUESTED)),
    "in_review": StateFilter(_lazy("In review"), (PostState.IN_REVIEW,)),
    "approved": StateFilter(_lazy("Approved, not scheduled"), (PostState.APPROVED,)),
    "scheduled": StateFilter(_lazy("Scheduled"), (PostState.SCHEDULED,)),
    "attention": StateFilter(_lazy("Needs attention"), (PostState.NEEDS_ATTENTION,)),
    "sent": StateFilter(
        _lazy("Published, partly published or failed"),
        (PostState.PUBLISHED, PostState.PARTIAL, PostState.FAILED),
    ),
    "cancelled": StateFilter(_lazy("Cancelled"), (PostState.CANCELLED,)),
}


def post_list(request: HttpRequest, tenant: Tenant) -> dict[str, Any]:
    """What /publish/ lists: the current brand's posts, newest first, filtered and paginated."""
    user = signed_in_user(request)
    brand = tenant.brand
    state = request.GET.get("state", "")
    if state not in STATE_FILTERS:
        state = ""
    mine = request.GET.get("mine") == "1"
    posts = Post.objects.none()
    if brand is not None:
        posts = Post.objects.filter(organization=tenant.organization, brand=brand)
        if state:
            posts = posts.filter(state__in=STATE_FILTERS[state].states)
        if mine:
            posts = posts.filter(created_by=user)
    posts = (
        posts.select_related("created_by")
        .prefetch_related("variants__channel")
        .order_by("-created_at", "-id")
    )
    page = Paginator(posts, PER_PAGE).get_page(request.GET.get("page"))
    query = "&".join(part for part in (f"state={state}" if state else "", "mine=1" if mine else "") if part)
    return {
        "posts_page": page,
        "state_filters": [(key, f.label) for key, f in STATE_FILTERS.items()],
        "state": state,
        "mine": mine,
        "filter_query": query,
        "can_write": brand is not None and may_write(user, brand),
        "brand_zone": str(brand_zone(brand)) if brand is not None else "UTC",
    }


# --- a post's page ---------------------------------------------------------------------------


@dataclass
class Typed:
    """What the person typed into a form that was refused, to show it again."""

    comment: str = ""
    decision: str = ""


def _actions(request: HttpRequest, tenant: Tenant, post: Post) -> dict[str, bool]:
    user = signed_in_user(request)
    own = post.created_by_id == user.pk
    return {
        "decide": approvals.may_decide(user, post),
        "withdraw": own and post.state in review.WITHDRAWABLE,
        "submit": post.state in review.SUBMITTABLE and (own or tenant.can(Perm.PROPOSE_POSTS)),
        "edit": may_edit(user, post) and post.state in EDITABLE | REOPENED_BY_EDIT,
        "duplicate": may_write(user, post.brand),
        "schedule": tenant.can(Perm.PUBLISH_POSTS)
        and post.state in (PostState.APPROVED, PostState.SCHEDULED),
        "cancel": (own or tenant.can(Perm.PUBLISH_POSTS))
        and post.state not in (PostState.PUBLISHED, PostState.CANCELLED),
    }


def _detail(
    request: HttpRequest,
    tenant: Tenant,
    post: Post,
    *,
    status: int = 200,
    errors: Sequence[str] = (),
    typed: Typed | None = None,
    schedule_form: ScheduleForm | None = None,
) -> HttpResponse:
    zone = brand_zone(post.brand)
    targets = list(
        DeliveryTarget.objects.filter(post=post)
        .select_related("channel")
        .prefetch_related("history")
        .order_by("channel__network", "channel__handle")
    )
    for target in targets:
        # The page warns that this Retry sends without any check (the person is the check).
        target.blind_retry = retry_is_blind(target)  # type: ignore[attr-defined]  # for the template
    media = [item.asset for item in PostMedia.objects.filter(post=post).select_related("asset")]
    step = approvals.current_step_of(post)
    may = _actions(request, tenant, post)
    return render(
        request,
        "web/post_detail.html",
        {
            "section": "publish",
            "post": post,
            "text_segments": preview_segments(post.text, None),
            "zone": str(zone),
            "targets": targets,
            "checks": verdict_views(post_verdicts(post), media),
            "media": [(asset, crop_classes(asset, Placement.SQUARE)) for asset in media],
            "step": step,
            "approvers": approvals.approvers(step, post) if step is not None else [],
            "decisions": ApprovalDecision.objects.filter(post=post).select_related("user"),
            "comments": PostComment.objects.filter(post=post).select_related("author"),
            "may": may,
            "can_publish": tenant.can(Perm.PUBLISH_POSTS),
            "errors": list(errors),
            "typed": typed or Typed(),
            "schedule_form": schedule_form
            or ScheduleForm(
                brand=post.brand,
                initial={"scheduled_at": local_input(post.scheduled_at, zone)},
            ),
        },
        status=status,
    )


@require_GET
@section("publish")
def post_detail(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    assert tenant.organization is not None
    post = get_post(signed_in_user(request), tenant.organization, post_id)
    return _detail(request, tenant, post)


def _version(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


REVIEW_ACTIONS = frozenset({"approve", "request_changes", "withdraw", "submit", "comment"})


@require_POST
@section("publish", write=Perm.VIEW)
def post_review(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    """Approve, request changes, comment, withdraw or send for review (each checked by `review`)."""
    assert tenant.organization is not None
    post = get_post(signed_in_user(request), tenant.organization, post_id)
    action = request.POST.get("action", "")
    if action not in REVIEW_ACTIONS:
        return HttpResponseBadRequest(_("Unknown action."))
    text = request.POST.get("comment", "").replace("\r\n", "\n")
    version = _version(request.POST.get("version"))
    actor = Actor.from_request(request)
    try:
        if action == "approve":
            post = review.approve(actor, post, text, version=version)
        elif action == "request_changes":
            post = review.request_changes(actor, post, text, version=version)
        elif action == "withdraw":
            post = review.withdraw(actor, post)
        elif action == "submit":
            post = review.submit(actor, post)
        else:
            review.comment(actor, post, text)
    except review.ReviewRefused as refused:
        typed = Typed(comment=text) if action == "comment" else Typed(decision=text)
        fresh = Post.objects.select_related("brand", "created_by").get(pk=post.pk)
        return _detail(request, tenant, fresh, status=400, errors=[str(refused)], typed=typed)
    messages.success(request, _done(action, Post.objects.get(pk=post.pk)))
    return redirect("web:post-detail", post.pk)


def _done(action: str, post: Post) -> str:
    if action == "comment":
        return _("Comment added.")
    if action == "request_changes":
        return _("Changes requested: the author was told.")
    if action == "withdraw":
        return _("Withdrawn from review: the post is a draft again.")
    if post.state == PostState.IN_REVIEW:
        return _("Sent for review.") if action == "submit" else _("Your approval is recorded.")
    if post.state == PostState.SCHEDULED:
        return _("Approved and scheduled.")
    if action == "submit":
        return _("Approved: it needs no review. Choose a time to schedule it.")
    return _("Approved: someone who publishes on its channels picks a time and schedules it.")


@require_POST
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def post_duplicate(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    assert tenant.organization is not None
    post = get_post(signed_in_user(request), tenant.organization, post_id)
    try:
        copy = duplicate_post(Actor.from_request(request), post)
    except ComposeRefused as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("web:post-detail", post.pk)
    messages.success(request, _("A copy was made as a new draft: edit it and send it on."))
    return redirect("web:post-edit", copy.pk)


@require_POST
@section("publish", Perm.PUBLISH_POSTS)
def post_schedule(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    """Put an approved post on the calendar, or move a scheduled one, at a time in the brand's zone."""
    assert tenant.organization is not None
    post = get_post(signed_in_user(request), tenant.organization, post_id)
    form = ScheduleForm(request.POST, brand=post.brand)
    if not form.is_valid():
        return _detail(request, tenant, post, status=400, schedule_form=form)
    try:
        post = scheduling.schedule(Actor.from_request(request), post, form.cleaned_data["scheduled_at"])
    except scheduling.SchedulingRefused as refused:
        return _detail(request, tenant, post, status=400, errors=[str(refused)], schedule_form=form)
    if post.state == PostState.APPROVED and scheduling.is_held(post):
        messages.warning(request, HELD_MESSAGE)
        return redirect("web:post-detail", post.pk)
    zone = brand_zone(post.brand)
    when = post.scheduled_at
    assert when is not None
    messages.success(
        request,
        _("Scheduled for %(when)s (%(zone)s).")
        % {"when": date_format(when.astimezone(zone), "DATETIME_FORMAT"), "zone": str(zone)},
    )
    return redirect("web:post-detail", post.pk)


# --- deliveries --------------------------------------------------------------------------------


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
