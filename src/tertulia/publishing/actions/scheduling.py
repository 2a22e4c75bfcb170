"""Putting an approved post on the calendar and into the delivery ledger.

What is sent is decided here, once: each variant's text with its UTM tags, checked against its
network's rules, and each image's rendition for the variant's placement. The ledger keeps that
payload, so an edit after approval cannot reach a network without a new review.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.permissions import Perm, has_perm, may_operate_channel
from tertulia.publishing.delivery import ledger
from tertulia.publishing.imaging.intake import ImageRefused
from tertulia.publishing.links import post_path
from tertulia.publishing.models import Post, PostMedia, PostState, Variant
from tertulia.publishing.renditions import rendition_for
from tertulia.publishing.rules.networks import rules_for
from tertulia.publishing.verdicts import VariantDraft, sent_text, verdict_for

# A time this close behind "now" still counts as "now" (the form took a moment to submit).
PAST_GRACE = timedelta(minutes=1)
# Nobody plans a post further ahead; a bound keeps every stored time showable in every time zone.
FURTHEST_AHEAD = timedelta(days=10 * 366)


def time_refusal(when: datetime | None, now: datetime | None = None) -> str:
    """Why `when` cannot be a post's time ("" if it can)."""
    now = now or timezone.now()
    if when is None:
        return ""
    if when < now - PAST_GRACE:
        return _("That time has passed: choose a time from now on.")
    if when > now + FURTHEST_AHEAD:
        return _("That is more than ten years ahead: choose a nearer time.")
    return ""


class SchedulingRefused(Exception):
    """The post cannot be scheduled as it is; the message says what to fix, and where."""


def variant_text(post: Post, variant: Variant) -> str:
    return sent_text(post.text, variant.text, variant.channel.network, post.utm_campaign)


def payload_for(post: Post, variant: Variant, media: list[PostMedia]) -> dict[str, Any]:
    assets = [item.asset for item in media]
    verdict = verdict_for(
        VariantDraft(variant.channel, variant.text, variant.placement), post.text, post.utm_campaign, assets
    )
    if verdict.errors:
        raise SchedulingRefused(f"@{variant.channel.handle}: " + " ".join(verdict.errors))
    items = []
    for asset in assets:
        if verdict.placement is None:
            break
        try:
            rendition = rendition_for(asset, variant.channel.network, verdict.placement)
        except ImageRefused as error:
            raise SchedulingRefused(f"@{variant.channel.handle}: {error}") from None
        alt = (
            asset.alt_text
            if verdict.check is not None and rules_for(variant.channel.network).alt_text
            else ""
        )
        items.append({"rendition": rendition.pk, "alt": alt})
    return {"text": verdict.text, "media": items}


def _enqueue(actor: Actor, post: Post, when: datetime, *, judged: bool = False) -> bool:
    """Freeze the payloads and put them in the ledger; False if the hijack guard holds the post.

    The guard (tertulia.guard) judges what is actually sent, on who put it here and from where; a
    held post stays approved, off the ledger, until a second person releases it (`judged`: this is
    that release).
    """
    variants = list(Variant.objects.filter(post=post).select_related("channel"))
    if not variants:
        raise SchedulingRefused(_("Choose at least one channel to publish on."))
    media = list(PostMedia.objects.filter(post=post).select_related("asset"))
    payloads = {variant.pk: payload_for(post, variant, media) for variant in variants}
    if not judged:
        from tertulia.guard.actions.holds import check_post

        texts = [str(payload.get("text", "")) for payload in payloads.values()]
        if check_post(actor, post, when, texts, [variant.channel for variant in variants]) is not None:
            post.scheduled_at = when
            post.state = PostState.APPROVED
            post.save(update_fields=["scheduled_at", "state", "updated_at"])
            return False
    ledger.enqueue(post, when, payloads)
    post.scheduled_at = when
    post.state = PostState.SCHEDULED
    post.save(update_fields=["scheduled_at", "state", "updated_at"])
    return True


def render_ahead(post: Post) -> None:
    """Make the post's renditions before the transaction that freezes them into the ledger.

    Rendering a large image takes about a second; inside the transaction it would hold the
    database's write lock (SQLite) that long. Renditions are kept and shared, so making them
    early costs nothing; one that cannot be made is left for the scheduling step to report.
    """
    media = [item.asset for item in PostMedia.objects.filter(post=post).select_related("asset")]
    if not media:
        return
    for variant in Variant.objects.filter(post=post).select_related("channel"):
        verdict = verdict_for(
            VariantDraft(variant.channel, variant.text, variant.placement),
            post.text,
            post.utm_campaign,
            media,
        )
        if verdict.errors or verdict.placement is None:
            continue
        for asset in media:
            try:
                rendition_for(asset, variant.channel.network, verdict.placement)
            except ImageRefused:
                continue


def schedule(actor: Actor, post: Post, when: datetime | None = None) -> Post:
    """Schedule an approved post at `when` (None: now), or move a scheduled one to a new time."""
    if not transaction.get_connection().in_atomic_block:
        render_ahead(post)
    return _schedule(actor, post, when)


@transaction.atomic
def _schedule(actor: Actor, post: Post, when: datetime | None) -> Post:
    user = actor.user
    post = Post.objects.select_for_update().get(pk=post.pk)
    if user is None or not has_perm(user, post.organization, Perm.PUBLISH_POSTS):
        raise SchedulingRefused(_("You may not publish posts; send it for review instead."))
    for variant in Variant.objects.filter(post=post).select_related("channel"):
        if not may_operate_channel(user, variant.channel):
            raise SchedulingRefused(_("You do not operate @%(handle)s.") % {"handle": variant.channel.handle})
    if post.state not in (PostState.APPROVED, PostState.SCHEDULED):
        raise SchedulingRefused(_("Only an approved post can be scheduled."))
    if is_held(post):
        raise SchedulingRefused(
            _("This post is held for review by the hijack guard: a second person releases or rejects it.")
        )
    now = timezone.now()
    when = when or now
    refusal = time_refusal(when, now)
    if refusal:
        raise SchedulingRefused(refusal)
    before = post.scheduled_at
    if post.state == PostState.SCHEDULED:
        # Only the time moves: what was frozen at scheduling (texts, crops, alt texts as reviewed)
        # stays, whatever was edited in the media library since.
        ledger.reschedule(post, max(when, now))
        post.scheduled_at = max(when, now)
        post.save(update_fields=["scheduled_at", "updated_at"])
    elif not _enqueue(actor, post, max(when, now)):
        return post  # held: the guard recorded why, and told who can release it
    record(actor, post.organization, "post.scheduled", post, {"scheduled_at": [before, post.scheduled_at]})
    return post


def is_held(post: Post) -> bool:
    """Whether the hijack guard holds the post for a second person's review."""
    from tertulia.guard.models import GuardHold, HoldState

    return GuardHold.objects.filter(post=post, state=HoldState.PENDING, post_version=post.version).exists()


@transaction.atomic
def enqueue_released(actor: Actor, post: Post, when: datetime) -> Post:
    """A post the guard held, released by a second person (tertulia.guard.actions.holds.release, which
    checked who may): into the ledger at `when`, without judging it again."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state != PostState.APPROVED:
        raise SchedulingRefused(_("Only an approved post can be scheduled."))
    refusal = time_refusal(when)
    if refusal:
        raise SchedulingRefused(refusal)
    _enqueue(actor, post, max(when, timezone.now()), judged=True)
    record(
        actor,
        post.organization,
        "post.scheduled",
        post,
        {"scheduled_at": [None, post.scheduled_at], "released_by_second_person": [None, True]},
    )
    return post


def _operated_by_someone_accountable(actor: Actor, post: Post) -> bool:
    """The author or the person completing the review operates every channel of the post."""
    channels = [variant.channel for variant in Variant.objects.filter(post=post).select_related("channel")]
    people = [person for person in (actor.user, post.created_by) if person is not None]
    return any(all(may_operate_channel(person, channel) for channel in channels) for person in people)


def approved(actor: Actor, post: Post) -> Post:
    """A post's review is complete (or it needed none): schedule it if it has a time, else keep it approved.

    A time that passed while the post waited for review is not used: the post stays approved and
    someone picks a new time (a late post is a decision for a person, not for the scheduler). Nor
    does an approval put a post on channels that neither its author nor its approver operates:
    someone who operates them schedules it (the same grant `schedule` asks for).
    """
    now = timezone.now()
    post = Post.objects.select_for_update().get(pk=post.pk)
    when = post.scheduled_at
    if when is None or when < now - PAST_GRACE or not _operated_by_someone_accountable(actor, post):
        if post.state != PostState.APPROVED:
            post.state = PostState.APPROVED
            post.save(update_fields=["state", "updated_at"])
        return post
    try:
        with transaction.atomic():
            if not _enqueue(actor, post, max(when, now)):
                return post  # held by the guard for a second person
    except SchedulingRefused as refused:
        # The approval stands; what stops the post (an image that cannot be cropped, a channel that
        # lost its access since) is for the author to fix, then schedule.
        _could_not_schedule(actor, post, str(refused))
        return post
    record(actor, post.organization, "post.scheduled", post, {"scheduled_at": [None, post.scheduled_at]})
    return post


def _could_not_schedule(actor: Actor, post: Post, reason: str) -> None:
    from tertulia.inbox.models import NotificationKind
    from tertulia.inbox.notifications import notify_people

    post.state = PostState.APPROVED
    post.save(update_fields=["state", "updated_at"])
    record(actor, post.organization, "post.not_scheduled", post, {"reason": [None, reason[:500]]})
    author = post.created_by
    if author is None:
        return
    with override(author.language or None):
        text = _("“%(post)s” was approved but could not be scheduled: %(reason)s") % {
            "post": str(post)[:80],
            "reason": reason[:300],
        }
    notify_people(
        post.organization_id, [author], NotificationKind.PUBLISH_FAILED, text, url=post_path(post.pk)
    )
