"""A post's way out: review (send, approve, ask for changes, discuss, withdraw), scheduling,
cancelling, and what a person does about a delivery (retry it, confirm it by hand).

Approving and asking for changes need `posts:review`; commenting `posts:write` or `posts:review`;
sending for review, withdrawing and cancelling `posts:write`; scheduling, retrying and confirming
`posts:publish` (on channels the caller operates). The answers are the post as
`GET /posts/{id}` gives it (see tertulia.api.routers.publishing_posts, which also explains the
statuses of refusals).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.publishing_schemas import (
    ChangesIn,
    CommentIn,
    CommentOut,
    ConfirmIn,
    DecisionIn,
    DeliveryOut,
    PostDetailOut,
    ScheduleIn,
)
from tertulia.api.routers.publishing_posts import fetch_post, moved_on, post_detail
from tertulia.api.schemas import ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.models import User
from tertulia.core.permissions import Perm, has_perm, may_operate_channel
from tertulia.publishing import approvals
from tertulia.publishing.access import get_post, get_target
from tertulia.publishing.actions import delivery as deliveries
from tertulia.publishing.actions import review, scheduling
from tertulia.publishing.models import DeliveryTarget, Post, PostComment, PostState, Variant

router = Router(tags=["publishing"])

_SCHEDULABLE = frozenset({PostState.APPROVED, PostState.SCHEDULED})


# ---------------------------------------------------------------- refusals
# Each action raises one refusal class (only review tells `NotPermitted` apart). Its status is found by
# asking again, once the action has rolled back, what it can be about: who the caller is (403), the
# post's version or state (409), or else what was sent (422). The message is always the action's own.


def _review_refused(
    refused: review.ReviewRefused,
    ctx: ApiContext,
    post: Post,
    version: int | None = None,
    states: frozenset[str] | None = None,
) -> ApiError:
    if isinstance(refused, review.NotPermitted):
        return ApiError(403, str(refused), "permission_denied")
    conflict = moved_on(str(refused), post.pk, version, states)
    if conflict is not None:
        return conflict
    current = Post.objects.select_related("brand").get(pk=post.pk)
    step = approvals.current_step_of(current)
    if version is not None and step is not None and approvals.has_decided(ctx.user, current, step):
        return ApiError(409, str(refused), "already_decided")
    return ApiError(422, str(refused), "review_refused")


def _unschedulable(refused: scheduling.SchedulingRefused) -> ApiError:
    """A review that completes schedules the post; making what it sends can fail (an image's crop)."""
    return ApiError(422, str(refused), "scheduling_refused")


def _operates_all(user: User, post: Post) -> bool:
    channels = [variant.channel for variant in Variant.objects.filter(post=post).select_related("channel")]
    return all(may_operate_channel(user, channel) for channel in channels)


def _scheduling_refused(refused: scheduling.SchedulingRefused, ctx: ApiContext, post: Post) -> ApiError:
    if not has_perm(ctx.user, ctx.organization, Perm.PUBLISH_POSTS) or not _operates_all(ctx.user, post):
        return ApiError(403, str(refused), "permission_denied")
    conflict = moved_on(str(refused), post.pk, None, _SCHEDULABLE)
    return conflict or ApiError(422, str(refused), "scheduling_refused")


def _delivery_refused(
    refused: deliveries.DeliveryRefused, ctx: ApiContext, target: DeliveryTarget, url: str = ""
) -> ApiError:
    if not has_perm(ctx.user, ctx.organization, Perm.PUBLISH_POSTS) or not may_operate_channel(
        ctx.user, target.channel
    ):
        return ApiError(403, str(refused), "permission_denied")
    url = url.strip()
    if url and not url.startswith(("https://", "http://")):
        return ApiError(
            422,
            str(refused),
            "validation_error",
            errors=[{"loc": ["body", "url"], "msg": str(refused), "type": "invalid"}],
        )
    state = DeliveryTarget.objects.filter(pk=target.pk).values_list("state", flat=True).first()
    return ApiError(409, str(refused), "wrong_state", state=state)


# ---------------------------------------------------------------- review


@router.post(
    "/posts/{post_id}/submit",
    response=PostDetailOut,
    summary="Send a draft for review (or straight on, when it needs none)",
    description=(
        "A post by someone who may publish, with no workflow in force, is approved at once and "
        "scheduled if it has a time and its author operates every channel. A post with errors on "
        "some channel is refused (422 `review_refused`, naming each)."
    ),
)
def submit_post(request: HttpRequest, post_id: ObjectId) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_WRITE, post_id)
    try:
        done = review.submit(ctx.actor(request), post)
    except review.ReviewRefused as refused:
        raise _review_refused(refused, ctx, post, states=frozenset(review.SUBMITTABLE)) from None
    except scheduling.SchedulingRefused as refused:
        raise _unschedulable(refused) from None
    return post_detail(done, ctx.user)


@router.post(
    "/posts/{post_id}/approve",
    response=PostDetailOut,
    summary="Approve the step the post waits on",
    description=(
        "Nobody approves their own post. The last step's approval schedules the post if it has a time "
        "to come and its author or the approver operates every channel; otherwise it stays approved."
    ),
)
def approve_post(request: HttpRequest, post_id: ObjectId, payload: DecisionIn) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_REVIEW, post_id)
    try:
        done = review.approve(ctx.actor(request), post, payload.comment, version=payload.version)
    except review.ReviewRefused as refused:
        in_review = frozenset({PostState.IN_REVIEW})
        raise _review_refused(refused, ctx, post, payload.version, in_review) from None
    except scheduling.SchedulingRefused as refused:
        raise _unschedulable(refused) from None
    return post_detail(done, ctx.user)


@router.post(
    "/posts/{post_id}/request-changes",
    response=PostDetailOut,
    summary="Send the post back to its author with what to change",
)
def request_post_changes(request: HttpRequest, post_id: ObjectId, payload: ChangesIn) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_REVIEW, post_id)
    try:
        done = review.request_changes(ctx.actor(request), post, payload.comment, version=payload.version)
    except review.ReviewRefused as refused:
        in_review = frozenset({PostState.IN_REVIEW})
        raise _review_refused(refused, ctx, post, payload.version, in_review) from None
    return post_detail(done, ctx.user)


@router.post(
    "/posts/{post_id}/comments",
    response={201: CommentOut},
    summary="Add to the post's review discussion (needs posts:write or posts:review)",
)
def comment_on_post(request: HttpRequest, post_id: ObjectId, payload: CommentIn) -> Status[PostComment]:
    try:
        ctx = require(request, Scope.POSTS_WRITE)
    except ApiError as first:
        try:
            ctx = require(request, Scope.POSTS_REVIEW)
        except ApiError:
            raise first from None
    post = get_post(ctx.user, ctx.organization, post_id)
    try:
        return Status(201, review.comment(ctx.actor(request), post, payload.text))
    except review.ReviewRefused as refused:
        raise _review_refused(refused, ctx, post) from None


@router.post(
    "/posts/{post_id}/withdraw",
    response=PostDetailOut,
    summary="Take your post back from review to draft",
)
def withdraw_post(request: HttpRequest, post_id: ObjectId) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_WRITE, post_id)
    try:
        done = review.withdraw(ctx.actor(request), post)
    except review.ReviewRefused as refused:
        raise _review_refused(refused, ctx, post, states=frozenset(review.WITHDRAWABLE)) from None
    return post_detail(done, ctx.user)


# ---------------------------------------------------------------- scheduling and delivery


@router.post(
    "/posts/{post_id}/schedule",
    response=PostDetailOut,
    summary="Schedule an approved post, or move a scheduled one",
    description=(
        "Needs a role that may publish and a grant on every channel of the post. What is sent is frozen "
        "now: each channel's text with its UTM tags and the images' renditions with their alt text."
    ),
)
def schedule_post(request: HttpRequest, post_id: ObjectId, payload: ScheduleIn) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_PUBLISH, post_id)
    try:
        done = scheduling.schedule(ctx.actor(request), post, payload.scheduled_at)
    except scheduling.SchedulingRefused as refused:
        raise _scheduling_refused(refused, ctx, post) from None
    return post_detail(done, ctx.user)


@router.post(
    "/posts/{post_id}/cancel",
    response=PostDetailOut,
    summary="Stop a post: its review ends and deliveries not yet sent are cancelled",
    description="Its author, or someone who may publish. What is being sent right now finishes.",
)
def cancel_post(request: HttpRequest, post_id: ObjectId) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_WRITE, post_id)
    try:
        done = deliveries.cancel_post(ctx.actor(request), post)
    except deliveries.DeliveryRefused as refused:
        own = post.created_by_id == ctx.user.pk
        if not own and not has_perm(ctx.user, ctx.organization, Perm.PUBLISH_POSTS):
            raise ApiError(403, str(refused), "permission_denied") from None
        current = Post.objects.filter(pk=post.pk).values_list("state", flat=True).first()
        raise ApiError(409, str(refused), "wrong_state", state=current) from None
    return post_detail(done, ctx.user)


def _targets_of(ctx: ApiContext) -> QuerySet[DeliveryTarget]:
    return ctx.restrict(DeliveryTarget.objects.select_related("channel").prefetch_related("history"))


@router.get("/deliveries/{delivery_id}", response=DeliveryOut, summary="One delivery, with its attempts")
def get_delivery(request: HttpRequest, delivery_id: ObjectId) -> DeliveryTarget:
    ctx = require(request, Scope.POSTS_READ)
    return get_object_or_404(_targets_of(ctx), pk=delivery_id)


@router.post(
    "/deliveries/{delivery_id}/retry",
    response=DeliveryOut,
    summary="Try a failed delivery, or one that needs attention, again",
    description="A delivery that may already be out is looked for on the network before it is sent again.",
)
def retry_delivery(request: HttpRequest, delivery_id: ObjectId) -> DeliveryTarget:
    ctx = require(request, Scope.POSTS_PUBLISH)
    target = get_target(ctx.user, ctx.organization, delivery_id)
    try:
        done = deliveries.retry_target(ctx.actor(request), target)
    except deliveries.DeliveryRefused as refused:
        raise _delivery_refused(refused, ctx, target) from None
    return get_object_or_404(_targets_of(ctx), pk=done.pk)


@router.post(
    "/deliveries/{delivery_id}/confirm-published",
    response=DeliveryOut,
    summary="Record a delivery that needs attention as published (you found it on the network)",
)
def confirm_delivery_published(
    request: HttpRequest, delivery_id: ObjectId, payload: ConfirmIn
) -> DeliveryTarget:
    ctx = require(request, Scope.POSTS_PUBLISH)
    target = get_target(ctx.user, ctx.organization, delivery_id)
    try:
        done = deliveries.confirm_published(ctx.actor(request), target, payload.url)
    except deliveries.DeliveryRefused as refused:
        raise _delivery_refused(refused, ctx, target, payload.url) from None
    return get_object_or_404(_targets_of(ctx), pk=done.pk)
