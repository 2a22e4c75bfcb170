"""The publishing calendar and each channel's queue slots: the same as Publish → Calendar and → Queue.

Times: every instant is answered in UTC (`at`) and on the brand's clock (`local_time`, with its
offset), next to the brand's IANA `timezone`. Times sent are instants, as everywhere in the API (one
without an offset is UTC). Queue slots are wall-clock times in the brand's time zone, `weekday`
0 (Monday) to 6 (Sunday): a slot the clocks skip in spring goes out when they have moved on (02:30
→ 03:30); one in the hour that happens twice goes out once, the first time.

Reading needs `posts:read`. Moving a post or adding it to its queue needs `posts:write` and a
person who may edit it (its author, or someone who may publish); a scheduled post also needs
`posts:publish` (its deliveries move). Setting a channel's slots needs `posts:publish` or
`publishing:manage`, and a person who manages publishing or operates the channel. A refusal for
who the caller is is 403; for the post's state 409 (`wrong_state`); for what was sent 422.
Another organization's ids are 404.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import StringConstraints

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.schemas import Input, Moment, ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.models import Brand, Channel
from tertulia.core.permissions import may_operate_channel
from tertulia.publishing.access import get_post
from tertulia.publishing.actions import queue
from tertulia.publishing.actions.compose import ComposeRefused, may_edit, set_time
from tertulia.publishing.calendar import Entry, entries, mover
from tertulia.publishing.links import post_path
from tertulia.publishing.models import Post, PostState, Variant

router = Router(tags=["publishing calendar"])

MAX_RANGE_DAYS = 100
EXCERPT_CHARS = 140
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


# ---------------------------------------------------------------- shapes


class ChannelRef(Schema):
    id: int
    network: str
    handle: str


class CalendarEntryOut(Schema):
    post_id: int
    state: PostState
    title: str
    excerpt: str = Field(description="The start of the post's text.")
    at: datetime = Field(
        description="Where it sits (UTC): its time, or when it went out if it was published."
    )
    local_time: str = Field(description="The same instant on the brand's clock, ISO 8601 with its offset.")
    went_out: bool = Field(description="Published (or partly): `at` is when its first delivery went out.")
    channels: list[ChannelRef]
    movable: bool = Field(description="The caller may move it (drag it on the calendar).")
    url: str = Field(description="Its page in the web app.")


class CalendarOut(Schema):
    brand_id: int
    timezone: str = Field(description="The brand's IANA time zone, e.g. Europe/Madrid.")
    start: datetime
    end: datetime
    entries: list[CalendarEntryOut]
    truncated: bool = Field(description="More posts than shown: ask for a shorter range.")


class CalendarQuery(Schema):
    start: Moment = Field(description="From this time (included).")
    end: Moment = Field(
        description=f"Until this time (excluded); at most {MAX_RANGE_DAYS} days after `start`."
    )


class MoveIn(Input):
    when: Moment = Field(description="The new time.")


class SlotIO(Input):
    weekday: int = Field(ge=0, le=6, description="0 Monday … 6 Sunday.")
    time: HourMinute = Field(description="HH:MM on the brand's clock.")


class SlotsIn(Input):
    slots: list[SlotIO] = Field(
        max_length=queue.MAX_SLOTS * 5,
        description=f"Replaces every slot of the channel; repeats count once; at most {queue.MAX_SLOTS}.",
    )


class SlotsOut(Schema):
    channel_id: int
    timezone: str
    slots: list[SlotIO]


# ---------------------------------------------------------------- helpers


def _brand(ctx: ApiContext, brand_id: int) -> Brand:
    return get_object_or_404(ctx.brands(), pk=brand_id)


def _channel(ctx: ApiContext, channel_id: int) -> Channel:
    return get_object_or_404(
        ctx.restrict(Channel.objects.select_related("organization", "brand")), pk=channel_id
    )


def _entry_out(entry: Entry, may_move: Callable[[Post], bool]) -> dict[str, Any]:
    post = entry.post
    zone = queue.brand_zone(post.brand)
    return {
        "post_id": post.pk,
        "state": post.state,
        "title": post.title,
        "excerpt": post.text[:EXCERPT_CHARS],
        "at": entry.when.astimezone(UTC),
        "local_time": entry.when.astimezone(zone).isoformat(),
        "went_out": entry.went_out,
        "channels": [{"id": c.pk, "network": c.network, "handle": c.handle} for c in entry.channels],
        "movable": may_move(post),
        "url": post_path(post.pk),
    }


def _post_entry(post: Post, ctx: ApiContext) -> dict[str, Any]:
    post = Post.objects.select_related("brand", "organization").get(pk=post.pk)
    assert post.scheduled_at is not None
    channels = [variant.channel for variant in Variant.objects.filter(post=post).select_related("channel")]
    entry = Entry(post=post, when=post.scheduled_at, channels=channels)
    return _entry_out(entry, mover(ctx.user, ctx.organization))


def _slots_out(channel: Channel) -> dict[str, Any]:
    return {
        "channel_id": channel.pk,
        "timezone": queue.brand_zone(channel.brand).key,
        "slots": [{"weekday": day, "time": at.strftime("%H:%M")} for day, at in queue.slots_of(channel)],
    }


def _movable_post(request: HttpRequest, post_id: int) -> tuple[ApiContext, Post]:
    """The post, if the caller's token and person may move it in time (403/404/409 otherwise)."""
    ctx = require(request, Scope.POSTS_WRITE)
    post = get_post(ctx.user, ctx.organization, post_id)
    if not may_edit(ctx.user, post):
        raise ApiError(403, _("You may not edit this post."), "permission_denied")
    if post.state not in queue.QUEUEABLE:
        raise ApiError(
            409,
            _("A post that is %(state)s cannot be moved.") % {"state": post.get_state_display().lower()},
            "wrong_state",
            state=post.state,
        )
    if post.state == PostState.SCHEDULED:
        require(request, Scope.POSTS_PUBLISH)
        for variant in Variant.objects.filter(post=post).select_related("channel", "channel__organization"):
            if not may_operate_channel(ctx.user, variant.channel):
                raise ApiError(
                    403,
                    _("You do not operate @%(handle)s.") % {"handle": variant.channel.handle},
                    "permission_denied",
                )
    return ctx, post


def _refused(refused: ComposeRefused, post: Post, field: str | None = None) -> ApiError:
    current = Post.objects.filter(pk=post.pk).values_list("state", flat=True).first()
    if current is not None and current not in queue.QUEUEABLE:
        return ApiError(409, str(refused), "wrong_state", state=current)
    loc = ["body", field] if field else ["body"]
    return ApiError(
        422,
        str(refused),
        "validation_error",
        errors=[{"loc": loc, "msg": message, "type": "invalid"} for message in refused.messages],
    )


# ---------------------------------------------------------------- calendar


@router.get(
    "/brands/{brand_id}/calendar",
    response=CalendarOut,
    summary="A brand's posts in a time range, as the calendar shows them",
    description=(
        "Each post once, where it sits: its time, or when it went out if it was published. "
        "Cancelled posts and posts with no time are left out. Earliest first."
    ),
)
def get_calendar(request: HttpRequest, brand_id: ObjectId, query: Query[CalendarQuery]) -> dict[str, Any]:
    ctx = require(request, Scope.POSTS_READ)
    brand = _brand(ctx, brand_id)
    start, end = query.start, query.end
    if end <= start or end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ApiError(
            422,
            _("The end comes after the start, at most %(n)d days later.") % {"n": MAX_RANGE_DAYS},
            "validation_error",
            errors=[{"loc": ["query", "end"], "msg": _("out of range"), "type": "invalid"}],
        )
    found, truncated = entries(brand, start, end)
    may_move = mover(ctx.user, ctx.organization)
    return {
        "brand_id": brand.pk,
        "timezone": queue.brand_zone(brand).key,
        "start": start,
        "end": end,
        "entries": [_entry_out(entry, may_move) for entry in found],
        "truncated": truncated,
    }


@router.post(
    "/posts/{post_id}/move",
    response=CalendarEntryOut,
    summary="Move a post in time (the calendar's drag)",
    description=(
        "A scheduled post's deliveries move with it; a draft's, in-review or approved post's time is a "
        "wish until it is scheduled and keeps its review. A time already past is refused (422)."
    ),
)
def move_post(request: HttpRequest, post_id: ObjectId, payload: MoveIn) -> dict[str, Any]:
    ctx, post = _movable_post(request, post_id)
    try:
        moved = set_time(ctx.actor(request), post, payload.when)
    except ComposeRefused as refused:
        raise _refused(refused, post, "when") from None
    return _post_entry(moved, ctx)


@router.post(
    "/posts/{post_id}/queue",
    response=CalendarEntryOut,
    summary="Put a post in the next free queue slot its channels share",
    description=(
        "The earliest slot, a few minutes from now or later, that every channel of the post has and "
        "that no other post still headed out holds on one of them. Channels with no slot in common "
        "are refused (422)."
    ),
)
def queue_post(request: HttpRequest, post_id: ObjectId) -> dict[str, Any]:
    ctx, post = _movable_post(request, post_id)
    try:
        moved = queue.add_to_queue(ctx.actor(request), post)
    except ComposeRefused as refused:
        raise _refused(refused, post) from None
    return _post_entry(moved, ctx)


# ---------------------------------------------------------------- queue slots


@router.get("/channels/{channel_id}/queue-slots", response=SlotsOut, summary="A channel's weekly queue slots")
def get_queue_slots(request: HttpRequest, channel_id: ObjectId) -> dict[str, Any]:
    ctx = require(request, Scope.POSTS_READ)
    return _slots_out(_channel(ctx, channel_id))


@router.put(
    "/channels/{channel_id}/queue-slots", response=SlotsOut, summary="Replace a channel's weekly queue slots"
)
def put_queue_slots(request: HttpRequest, channel_id: ObjectId, payload: SlotsIn) -> dict[str, Any]:
    try:
        ctx = require(request, Scope.POSTS_PUBLISH)
    except ApiError as first:
        try:
            ctx = require(request, Scope.PUBLISHING_MANAGE)
        except ApiError:
            raise first from None
    channel = _channel(ctx, channel_id)
    if not queue.may_set_slots(ctx.user, channel):
        raise ApiError(
            403,
            _("You may not change the queue of @%(handle)s.") % {"handle": channel.handle},
            "permission_denied",
        )
    slots = [(slot.weekday, datetime.strptime(slot.time, "%H:%M").time()) for slot in payload.slots]
    try:
        queue.set_slots(ctx.actor(request), channel, slots)
    except ComposeRefused as refused:
        raise ApiError(
            422,
            str(refused),
            "validation_error",
            errors=[
                {"loc": ["body", "slots"], "msg": message, "type": "invalid"} for message in refused.messages
            ],
        ) from None
    return _slots_out(channel)
