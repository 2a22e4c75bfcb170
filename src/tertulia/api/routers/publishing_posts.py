"""Posts: list them, write them, check them against each network's rules, read them whole.
Their review, scheduling and deliveries are in tertulia.api.routers.publishing_flow.

Reading and checking need `posts:read`; writing and duplicating `posts:write`. Everyone in the
organization sees its posts (as on the web); the actions check the person themselves. A refusal
for who the caller is is 403 with the action's own message; one because the post is no longer what
the caller read is 409 (`version_conflict` with the current `version`, `wrong_state` with the
current `state`, `already_decided`); one for what was sent is 422. Another organization's ids
are 404.
"""

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.publishing_schemas import CheckOut, DraftIn, DraftPut, PostDetailOut, PostFilter, PostOut
from tertulia.api.schemas import MAX_ID, ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.models import Channel, User
from tertulia.publishing import approvals
from tertulia.publishing.access import get_post
from tertulia.publishing.actions import compose
from tertulia.publishing.models import (
    ApprovalDecision,
    DeliveryTarget,
    MediaAsset,
    Post,
    PostComment,
    PostMedia,
    PostState,
    TargetState,
    Variant,
)
from tertulia.publishing.verdicts import ChannelVerdict, VariantDraft, post_verdicts, verdicts

router = Router(tags=["publishing"])

_POST_FIELDS = (
    "id",
    "brand_id",
    "title",
    "text",
    "utm_campaign",
    "state",
    "version",
    "scheduled_at",
    "created_by_id",
    "submitted_at",
    "approved_at",
    "created_at",
    "updated_at",
)


# ---------------------------------------------------------------- reading


def fetch_post(request: HttpRequest, scope: Scope, post_id: int) -> tuple[ApiContext, Post]:
    """The caller's context if the token may use `scope`, and the post if it is their organization's."""
    ctx = require(request, scope)
    return ctx, get_post(ctx.user, ctx.organization, post_id)


def _targets(post: Post) -> QuerySet[DeliveryTarget]:
    return (
        DeliveryTarget.objects.filter(post=post)
        .select_related("channel")
        .prefetch_related("history")
        .order_by("channel__network", "channel__handle", "pk")
    )


def _review(post: Post, user: User) -> dict[str, Any]:
    step = approvals.current_step_of(post)
    current = None
    if step is not None:
        current = {
            "position": step.position,
            "name": str(step.name),
            "mode": str(step.mode),
            "approver_ids": [person.pk for person in approvals.approvers(step, post)],
        }
    return {
        "workflow_id": post.workflow_id,
        "workflow_kind": post.workflow.kind if post.workflow is not None else None,
        "current_step": current,
        "you_may_decide": approvals.may_decide(user, post),
        "decisions": list(ApprovalDecision.objects.filter(post=post)),
    }


def post_detail(post: Post, user: User) -> dict[str, Any]:
    """Everything about a post, read afresh (an action's return value may be a step behind)."""
    post = Post.objects.select_related("brand", "organization", "workflow", "created_by").get(pk=post.pk)
    variants = list(Variant.objects.filter(post=post).select_related("channel"))
    media = [
        {
            "asset_id": item.asset_id,
            "position": item.position,
            "original_name": item.asset.original_name,
            "mime_type": item.asset.mime_type,
            "width": item.asset.width,
            "height": item.asset.height,
            "alt_text": item.asset.alt_text,
            "focal_x": item.asset.focal_x,
            "focal_y": item.asset.focal_y,
        }
        for item in PostMedia.objects.filter(post=post).select_related("asset")
    ]
    return {
        **{name: getattr(post, name) for name in _POST_FIELDS},
        "channel_ids": sorted(variant.channel_id for variant in variants),
        "variants": variants,
        "media": media,
        "deliveries": list(_targets(post)),
        "review": _review(post, user),
        "comments": list(PostComment.objects.filter(post=post)),
    }


def _entities(found: Any) -> list[dict[str, Any]]:
    return [{"text": entity.text, "start": entity.start, "end": entity.end} for entity in found]


def _verdict(verdict: ChannelVerdict) -> dict[str, Any]:
    check = verdict.check
    return {
        "channel_id": verdict.channel.pk,
        "channel_handle": verdict.channel.handle,
        "network": verdict.channel.network,
        "network_name": verdict.network_name,
        "text": verdict.text,
        "own_text": verdict.own_text,
        "length": check.length if check else None,
        "limit": check.limit if check else None,
        "unit": str(check.unit) if check else None,
        "remaining": check.remaining if check else None,
        "hashtags": _entities(check.hashtags if check else ()),
        "mentions": _entities(check.mentions if check else ()),
        "links": _entities(check.links if check else ()),
        "errors": list(verdict.errors),
        "warnings": list(verdict.warnings),
        "placement": str(verdict.placement) if verdict.placement else None,
        "placements": [str(placement) for placement in verdict.placements],
        "ok": verdict.ok,
    }


def _check(found: list[ChannelVerdict]) -> dict[str, Any]:
    errors = [] if found else [_("Choose at least one channel to publish on.")]
    return {
        "ok": not errors and all(verdict.ok for verdict in found),
        "errors": errors,
        "channels": [_verdict(verdict) for verdict in found],
    }


def _author(ctx: ApiContext, author: str) -> int:
    if author == "me":
        return ctx.user.pk
    if author.isascii() and author.isdigit() and 1 <= int(author) <= MAX_ID:
        return int(author)
    raise ApiError(
        422,
        _("Filter by author=me or by a user id."),
        "validation_error",
        errors=[{"loc": ["query", "author"], "msg": _("Use me or a user id."), "type": "invalid"}],
    )


# ---------------------------------------------------------------- refusals


def _invalid(messages: list[str]) -> ApiError:
    return ApiError(
        422,
        " ".join(messages),
        "validation_error",
        errors=[{"loc": ["body"], "msg": message, "type": "invalid"} for message in messages],
    )


def moved_on(
    detail: str, post_id: int, version: int | None, states: frozenset[str] | None
) -> ApiError | None:
    """409 if the post is no longer what the caller acted on: another version, or another state."""
    current = Post.objects.filter(pk=post_id).values_list("version", "state").first()
    if current is None:
        return ApiError(404, _("Not found."), "not_found")
    now_version, now_state = current
    if version is not None and now_version != version:
        return ApiError(409, detail, "version_conflict", version=now_version)
    if states is not None and now_state not in states:
        return ApiError(409, detail, "wrong_state", state=now_state)
    return None


def _started(post: Post) -> bool:
    """A scheduled post some delivery of which is on its way (an edit cannot take it back)."""
    quiet = [*compose.NOT_STARTED, TargetState.CANCELLED]
    return DeliveryTarget.objects.filter(post=post).filter(Q(attempts__gt=0) | ~Q(state__in=quiet)).exists()


def _compose_refused(
    refused: compose.ComposeRefused, ctx: ApiContext, post: Post | None = None, version: int | None = None
) -> ApiError:
    detail = str(refused)
    if post is None:
        return _invalid(refused.messages)
    current = Post.objects.select_related("organization").get(pk=post.pk)
    if not compose.may_edit(ctx.user, current):
        return ApiError(403, detail, "permission_denied")
    editable = frozenset(compose.EDITABLE | compose.REOPENED_BY_EDIT)
    conflict = moved_on(detail, current.pk, version, editable)
    if conflict is not None:
        return conflict
    if current.state == PostState.SCHEDULED and _started(current):
        return ApiError(409, detail, "wrong_state", state=current.state)
    return _invalid(refused.messages)


def _spec(payload: DraftIn) -> compose.DraftSpec:
    return compose.DraftSpec(
        text=payload.text,
        title=payload.title,
        utm_campaign=payload.utm_campaign,
        scheduled_at=payload.scheduled_at,
        variants=tuple(
            compose.VariantSpec(
                channel_id=variant.channel_id,
                text=variant.text,
                placement=str(variant.placement) if variant.placement else "",
            )
            for variant in payload.variants
        ),
        media=tuple(payload.media),
    )


# ---------------------------------------------------------------- posts


@router.get("/posts", response=list[PostOut], summary="The organization's posts, newest first")
@paginate(Pagination)
def list_posts(request: HttpRequest, filters: Query[PostFilter]) -> QuerySet[Post]:
    ctx = require(request, Scope.POSTS_READ)
    found = ctx.restrict(Post.objects.prefetch_related("variants"))
    if filters.brand_id is not None:
        found = found.filter(brand_id=filters.brand_id)
    if filters.state:
        found = found.filter(state__in=filters.state)
    if filters.scheduled_from is not None:
        found = found.filter(scheduled_at__gte=filters.scheduled_from)
    if filters.scheduled_to is not None:
        found = found.filter(scheduled_at__lt=filters.scheduled_to)
    if filters.author:
        found = found.filter(created_by_id=_author(ctx, filters.author))
    return found.order_by("-created_at", "-id")


@router.post(
    "/brands/{brand_id}/posts",
    response={201: PostDetailOut},
    summary="Write a post: a draft with a variant per channel",
    description=(
        "A draft may hold text over a network's limit (see `check`); review and scheduling refuse it. "
        "Refused outright, with every reason in `errors`: channels or images of another brand, a time "
        "already past, text beyond any network."
    ),
)
def create_post(request: HttpRequest, brand_id: ObjectId, payload: DraftIn) -> Status[dict[str, Any]]:
    ctx = require(request, Scope.POSTS_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    try:
        post = compose.create_post(ctx.actor(request), brand, _spec(payload))
    except compose.ComposeRefused as refused:
        raise _compose_refused(refused, ctx) from None
    return Status(201, post_detail(post, ctx.user))


@router.post(
    "/brands/{brand_id}/posts/check",
    response=CheckOut,
    summary="What each channel would make of a draft (nothing is saved)",
    description=(
        "Per channel: the text as it would be sent (UTM tags added), its length as the network counts "
        "it, the limit and what remains, hashtags, mentions and links with their offsets, errors and "
        "warnings. The same checks review and scheduling apply. `title` and `scheduled_at` are ignored."
    ),
)
def check_draft(request: HttpRequest, brand_id: ObjectId, payload: DraftIn) -> dict[str, Any]:
    ctx = require(request, Scope.POSTS_READ)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    wanted = [variant.channel_id for variant in payload.variants]
    channels = {channel.pk: channel for channel in Channel.objects.filter(brand=brand, pk__in=wanted)}
    if len(channels) != len(set(wanted)):
        raise _invalid([_("One of the channels is not this brand's.")])
    assets = {asset.pk: asset for asset in MediaAsset.objects.filter(brand=brand, pk__in=payload.media)}
    if len(assets) != len(set(payload.media)):
        raise _invalid([_("One of the images is not in this brand's media library.")])
    drafts = [
        VariantDraft(
            channels[variant.channel_id], variant.text, str(variant.placement) if variant.placement else ""
        )
        for variant in payload.variants
    ]
    media = [assets[asset_id] for asset_id in dict.fromkeys(payload.media)]
    return _check(verdicts(payload.text, payload.utm_campaign.strip(), drafts, media))


@router.get("/posts/{post_id}", response=PostDetailOut, summary="One post: variants, review and deliveries")
def get_one_post(request: HttpRequest, post_id: ObjectId) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_READ, post_id)
    return post_detail(post, ctx.user)


@router.put(
    "/posts/{post_id}",
    response=PostDetailOut,
    summary="Save the whole draft over the post (optimistic concurrency with `version`)",
    description=(
        "The post is replaced whole: text, title, campaign, time, variants and images. Saving a post "
        "in review, approved or scheduled sends it back to draft (every approval is of one version) "
        "and takes a scheduled post's deliveries off the ledger; once one has started going out, the "
        "post can no longer be edited (409 `wrong_state`): duplicate it instead."
    ),
)
def replace_post(request: HttpRequest, post_id: ObjectId, payload: DraftPut) -> dict[str, Any]:
    ctx, post = fetch_post(request, Scope.POSTS_WRITE, post_id)
    try:
        saved = compose.update_post(ctx.actor(request), post, _spec(payload), version=payload.version)
    except compose.ComposeRefused as refused:
        raise _compose_refused(refused, ctx, post, payload.version) from None
    return post_detail(saved, ctx.user)


@router.post(
    "/posts/{post_id}/duplicate",
    response={201: PostDetailOut},
    summary="A new draft with the post's text, channels and images (not its time, review or results)",
)
def duplicate_post(request: HttpRequest, post_id: ObjectId) -> Status[dict[str, Any]]:
    ctx, post = fetch_post(request, Scope.POSTS_WRITE, post_id)
    try:
        copy = compose.duplicate_post(ctx.actor(request), post)
    except compose.ComposeRefused as refused:
        raise ApiError(403, str(refused), "permission_denied") from None
    return Status(201, post_detail(copy, ctx.user))


@router.get(
    "/posts/{post_id}/verdicts",
    response=CheckOut,
    summary="What each channel makes of the post as saved",
)
def get_post_verdicts(request: HttpRequest, post_id: ObjectId) -> dict[str, Any]:
    _ctx, post = fetch_post(request, Scope.POSTS_READ, post_id)
    return _check(post_verdicts(post))
