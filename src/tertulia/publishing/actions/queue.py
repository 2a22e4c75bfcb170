"""Queue slots: the recurring times each channel publishes at, and putting a post in the next free one.

A channel's **slots** are weekly wall-clock times in its brand's time zone ("Tuesday 09:30 in
Europe/Madrid"): they follow the brand's clocks through summer time, so a 09:30 slot is at 09:30
local time all year round (07:30 UTC in summer, 08:30 UTC in winter in Madrid).

Who may set a channel's slots: people who manage publishing (brand managers, administrators,
owners: Perm.MANAGE_PUBLISHING, which covers queue slots), and anyone who may publish posts and
operates that channel — the people who could put posts on the channel at any time by hand may
also set its rhythm.

**Add to queue.** A post has one time for all its channels, so it goes to a time at which *every*
channel of it has a slot (the slots they share); channels that share none are refused with a
message saying so, rather than picking one channel's slot the others never asked for. A slot is
free when no other post of the brand that is still on its way out (a draft with a wished time, in
review, approved or scheduled) sits on one of the post's channels at that very minute. The
earliest free slot at least `QUEUE_MARGIN` from now is chosen, searching `HORIZON_DAYS` ahead.

**Summer time.** A slot in the hour the clocks skip (02:30 on the last Sunday of March in Madrid)
is not lost: it goes out when the clocks have moved on, at 03:30 — the instant 02:30 would have
been without the change. A slot in the hour that happens twice (02:30 on the last Sunday of
October) is used once, at its first occurrence (still summer time). This is Python's `fold=0`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.permissions import Perm, has_perm, may_operate_channel
from tertulia.core.zones import zone
from tertulia.publishing.actions.compose import ComposeRefused, may_edit, set_time
from tertulia.publishing.models import Post, PostState, QueueSlot, Variant

MAX_SLOTS = 100
# A slot this close ahead is not offered: the post could not be reviewed or even read in time.
QUEUE_MARGIN = timedelta(minutes=5)
HORIZON_DAYS = 366
# Posts still headed out at their time: each holds its minute on its channels.
OCCUPYING = frozenset(
    {
        PostState.DRAFT,
        PostState.CHANGES_REQUESTED,
        PostState.IN_REVIEW,
        PostState.APPROVED,
        PostState.SCHEDULED,
    }
)
# What `set_time` moves; anything else (published, failed, cancelled) has no place in a queue.
QUEUEABLE = frozenset(
    {
        PostState.DRAFT,
        PostState.CHANGES_REQUESTED,
        PostState.IN_REVIEW,
        PostState.APPROVED,
        PostState.SCHEDULED,
    }
)

Slot = tuple[int, time]


class QueueRefused(ComposeRefused):
    """The slots cannot be saved, or the post cannot be queued; `messages` says why."""


# --- time zones ----------------------------------------------------------------------------------


def brand_zone(brand: Brand) -> ZoneInfo:
    """The brand's time zone (UTC if its stored name is unknown to this system's time zone data)."""
    return zone(brand.timezone)


def slot_instant(zone: ZoneInfo, day: date, at: time) -> datetime:
    """The instant (UTC) of the wall-clock time `at` on `day` in `zone`.

    A time the clocks skip is the instant it would have been before the change (02:30 on a
    spring-forward night goes out at 03:30); a time that happens twice is its first occurrence.
    """
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0)).replace(tzinfo=zone)
    return local.astimezone(UTC)


# --- slots ---------------------------------------------------------------------------------------


def may_set_slots(user: User, channel: Channel) -> bool:
    organization = channel.organization
    if has_perm(user, organization, Perm.MANAGE_PUBLISHING, channel.brand):
        return True
    return has_perm(user, organization, Perm.PUBLISH_POSTS) and may_operate_channel(user, channel)


def slots_of(channel: Channel) -> list[Slot]:
    return [(slot.weekday, slot.time) for slot in QueueSlot.objects.filter(channel=channel)]


def slots_by_channel(channels: Iterable[Channel]) -> dict[int, list[Slot]]:
    """Each channel's slots, Monday first, in one query."""
    found: dict[int, list[Slot]] = {channel.pk: [] for channel in channels}
    for slot in QueueSlot.objects.filter(channel_id__in=list(found)).order_by("weekday", "time"):
        found[slot.channel_id].append((slot.weekday, slot.time))
    return found


def _describe(slots: Iterable[Slot]) -> list[list[object]]:
    return [[weekday, at.strftime("%H:%M")] for weekday, at in slots]


def _clean(slots: Sequence[tuple[object, object]]) -> list[Slot]:
    errors: list[str] = []
    cleaned: dict[Slot, None] = {}
    for weekday, at in slots:
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            errors.append(_("A day of the week is a number from 0 (Monday) to 6 (Sunday)."))
            continue
        if not isinstance(at, time):
            errors.append(_("Each slot needs a time of day."))
            continue
        if at.tzinfo is not None:
            errors.append(_("Slot times are in the brand's time zone: leave the time zone out."))
            continue
        if at.second or at.microsecond:
            errors.append(_("Slot times are in whole minutes."))
            continue
        cleaned[(weekday, at.replace(fold=0))] = None
    if len(cleaned) > MAX_SLOTS:
        errors.append(_("A channel has at most %(n)d queue slots.") % {"n": MAX_SLOTS})
    if errors:
        raise QueueRefused(list(dict.fromkeys(errors)))
    return sorted(cleaned)


@transaction.atomic
def set_slots(actor: Actor, channel: Channel, slots: Sequence[tuple[object, object]]) -> list[Slot]:
    """Replace the channel's queue slots with `slots` ((weekday 0 to 6, time) pairs; repeats are one).

    Posts already given a queue time keep it: slots decide where the next posts go, not where the
    queued ones are.
    """
    user = actor.user
    if user is None or not may_set_slots(user, channel):
        raise QueueRefused([_("You may not change the queue of @%(handle)s.") % {"handle": channel.handle}])
    cleaned = _clean(slots)
    # Serializes two people saving the same channel's slots at once.
    Channel.objects.select_for_update().filter(pk=channel.pk).first()
    before = slots_of(channel)
    if before == cleaned:
        return cleaned
    QueueSlot.objects.filter(channel=channel).delete()
    QueueSlot.objects.bulk_create(QueueSlot(channel=channel, weekday=day, time=at) for day, at in cleaned)
    record(
        actor,
        channel.organization,
        "queue_slots.set",
        channel,
        {"slots": [_describe(before), _describe(cleaned)]},
    )
    return cleaned


# --- the next free slot --------------------------------------------------------------------------


def _post_channels(post: Post) -> list[Channel]:
    return [
        variant.channel
        for variant in Variant.objects.filter(post=post).select_related("channel").order_by("channel_id")
    ]


def _shared(per_channel: dict[int, list[Slot]]) -> set[Slot]:
    shared: set[Slot] | None = None
    for slots in per_channel.values():
        shared = set(slots) if shared is None else shared & set(slots)
    return shared or set()


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _taken(post: Post, channels: Sequence[Channel], start: datetime, end: datetime) -> set[datetime]:
    times = (
        Post.objects.filter(
            brand_id=post.brand_id,
            state__in=OCCUPYING,
            scheduled_at__gte=start - timedelta(minutes=1),
            scheduled_at__lt=end,
            variants__channel__in=channels,
        )
        .exclude(pk=post.pk)
        .values_list("scheduled_at", flat=True)
        .distinct()
    )
    return {_minute(moment) for moment in times if moment is not None}


def _search(post: Post, after: datetime | None) -> tuple[datetime | None, str]:
    """The next free shared slot, or None and the reason (in the person's language)."""
    channels = _post_channels(post)
    if not channels:
        return None, _("Choose at least one channel to publish on.")
    per_channel = slots_by_channel(channels)
    shared = _shared(per_channel)
    if not shared:
        empty = [channel for channel in channels if not per_channel[channel.pk]]
        if empty:
            return None, _(
                "@%(handle)s has no queue slots yet: set its publishing times in the queue first."
            ) % {"handle": empty[0].handle}
        return None, _(
            "These channels share no queue slot: give them a time in common in the queue, "
            "or pick a time for the post by hand."
        )
    zone = brand_zone(post.brand)
    earliest = timezone.now() + QUEUE_MARGIN
    if after is not None and after >= earliest:
        earliest = after + timedelta(microseconds=1)
    end = earliest + timedelta(days=HORIZON_DAYS + 1)
    taken = _taken(post, channels, earliest, end)
    by_weekday: dict[int, list[time]] = {}
    for weekday, at in sorted(shared):
        by_weekday.setdefault(weekday, []).append(at)
    # A day early, so a slot late on the previous local day is not missed far west of UTC.
    day = earliest.astimezone(zone).date() - timedelta(days=1)
    for _offset in range(HORIZON_DAYS + 2):
        candidates = sorted(slot_instant(zone, day, at) for at in by_weekday.get(day.weekday(), ()))
        for moment in candidates:
            if moment >= earliest and moment not in taken:
                return moment, ""
        day += timedelta(days=1)
    return None, _(
        "Every queue slot of these channels is taken for the next year: add slots or pick a time by hand."
    )


def next_free_slot(post: Post, after: datetime | None = None) -> datetime | None:
    """The earliest free slot every channel of the post shares, from a few minutes from now
    (and strictly after `after`, when given); None if there is none within a year."""
    return _search(post, after)[0]


@transaction.atomic
def add_to_queue(actor: Actor, post: Post) -> Post:
    """Move the post to its next free queue slot (see the module's docstring)."""
    user = actor.user
    if user is None or not may_edit(user, post):
        raise QueueRefused([_("You may not edit this post.")])
    if post.state not in QUEUEABLE:
        raise QueueRefused(
            [_("A post that is %(state)s cannot be moved.") % {"state": post.get_state_display().lower()}]
        )
    # Two people queueing posts of the same brand at once would otherwise pick the same slot.
    Brand.objects.select_for_update().filter(pk=post.brand_id).first()
    when, reason = _search(post, None)
    if when is None:
        raise QueueRefused([reason])
    moved = set_time(actor, post, when)
    record(actor, post.organization, "post.queued", moved, {"scheduled_at": [None, when]})
    return moved
