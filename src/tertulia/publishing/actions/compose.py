"""Writing posts: create a draft, edit it, move it in time, copy it.

A draft may hold text over a network's limit (the composer shows it, review and scheduling refuse
it); what is refused here is what no draft can hold: channels of another brand, images of another
brand's library, a time already past, text beyond any network.

Editing a post that is in review, approved or scheduled sends it back to draft: every approval
is of one version, and a scheduled post's deliveries are taken off the ledger (if none has started
going out) so that nothing a reviewer did not see can reach a network. The composer says so before
the person saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.permissions import Perm, has_perm, may_operate_channel
from tertulia.publishing.actions.scheduling import time_refusal
from tertulia.publishing.delivery import states
from tertulia.publishing.models import (
    DeliveryTarget,
    MediaAsset,
    Post,
    PostMedia,
    PostState,
    TargetState,
    Variant,
)
from tertulia.publishing.rules.placements import Placement

# Beyond every network's limit (Facebook's 63,206 is the longest): more is not a post.
MAX_TEXT = 70_000
MAX_TITLE = 200
MAX_CAMPAIGN = 100
MAX_CHANNELS = 300
MAX_IMAGES = 10
EDITABLE = frozenset({PostState.DRAFT, PostState.CHANGES_REQUESTED})
# Editing these sends the post back to draft (a new version needs a new review).
REOPENED_BY_EDIT = frozenset({PostState.IN_REVIEW, PostState.APPROVED, PostState.SCHEDULED})
# Deliveries in these states have not started: taking them off the ledger loses nothing.
NOT_STARTED = (TargetState.SCHEDULED, TargetState.DUE)


class ComposeRefused(ValueError):
    """The post cannot be saved as given; `messages` lists every reason, in the person's language."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__(" ".join(self.messages))


@dataclass(frozen=True)
class VariantSpec:
    channel_id: int
    text: str = ""  # empty: the post's text
    placement: str = ""  # empty: the network's usual image format


@dataclass(frozen=True)
class DraftSpec:
    """A post as the composer (or the API) sends it: saved whole."""

    text: str = ""
    title: str = ""
    utm_campaign: str = ""
    scheduled_at: datetime | None = None
    variants: Sequence[VariantSpec] = field(default_factory=tuple)
    media: Sequence[int] = field(default_factory=tuple)  # asset ids, in order


def may_write(user: User, brand: Brand) -> bool:
    """Whoever may propose or publish posts in the brand (a member limited to other brands may not)."""
    organization = brand.organization
    return has_perm(user, organization, Perm.PROPOSE_POSTS, brand) or has_perm(
        user, organization, Perm.PUBLISH_POSTS, brand
    )


def may_edit(user: User, post: Post) -> bool:
    """The author while they may still write posts, or anyone who may publish (editors), in its brand."""
    organization = post.organization
    if has_perm(user, organization, Perm.PUBLISH_POSTS, post.brand):
        return True
    return post.created_by_id == user.pk and has_perm(user, organization, Perm.PROPOSE_POSTS, post.brand)


@transaction.atomic
def create_post(actor: Actor, brand: Brand, spec: DraftSpec) -> Post:
    user = _person(actor)
    if not may_write(user, brand):
        raise ComposeRefused([_("You may not write posts for this brand.")])
    channels, assets = _validate(brand, spec)
    post = Post.objects.create(
        organization=brand.organization,
        brand=brand,
        created_by=user,
        title=spec.title.strip(),
        text=spec.text,
        utm_campaign=spec.utm_campaign.strip(),
        scheduled_at=spec.scheduled_at,
    )
    _write_parts(post, spec, channels, assets)
    record(actor, brand.organization, "post.created", post, _summary(post, spec))
    return post


@transaction.atomic
def update_post(actor: Actor, post: Post, spec: DraftSpec, *, version: int) -> Post:
    """Save the composer's post over `post`, if nobody saved another version since `version`."""
    user = _person(actor)
    post = _lock(post)
    if not may_edit(user, post):
        raise ComposeRefused([_("You may not edit this post.")])
    if post.version != version:
        raise ComposeRefused(
            [_("Someone saved this post while you were editing it: reload it to see their changes.")]
        )
    if post.state not in EDITABLE | REOPENED_BY_EDIT:
        raise ComposeRefused(
            [
                _("A post that is %(state)s cannot be edited; duplicate it to write a new one.")
                % {"state": post.get_state_display().lower()}
            ]
        )
    channels, assets = _validate(post.brand, spec)
    before_state = post.state
    if post.state == PostState.SCHEDULED:
        # Taking a post off the calendar asks what moving it asks: operating each of its channels.
        for variant in Variant.objects.filter(post=post).select_related("channel"):
            if not may_operate_channel(user, variant.channel):
                raise ComposeRefused(
                    [_("You do not operate @%(handle)s.") % {"handle": variant.channel.handle}]
                )
        _take_off_ledger(post)
    post.title = spec.title.strip()
    post.text = spec.text
    post.utm_campaign = spec.utm_campaign.strip()
    post.scheduled_at = spec.scheduled_at
    post.version += 1
    if post.state in REOPENED_BY_EDIT:
        post.state = PostState.DRAFT
        post.workflow = None
        post.current_step = 0
        post.approved_at = None
    post.save()
    Variant.objects.filter(post=post).delete()
    PostMedia.objects.filter(post=post).delete()
    _write_parts(post, spec, channels, assets)
    changes = _summary(post, spec)
    changes["state"] = [before_state, post.state]
    record(actor, post.organization, "post.edited", post, changes)
    return post


@transaction.atomic
def set_time(actor: Actor, post: Post, when: datetime | None) -> Post:
    """Move a post in time (the calendar's drag): a scheduled post's deliveries move with it.

    A post not yet scheduled keeps its review: the time is a wish until it is approved and
    scheduled, not part of what reviewers approve.
    """
    from tertulia.publishing.actions import scheduling

    user = _person(actor)
    post = _lock(post)
    if not may_edit(user, post):
        raise ComposeRefused([_("You may not edit this post.")])
    _check_time(when)
    if post.state == PostState.SCHEDULED:
        if when is None:
            raise ComposeRefused([_("A scheduled post needs a time; cancel it to take it off the calendar.")])
        try:
            scheduling.schedule(actor, post, when)
        except scheduling.SchedulingRefused as error:
            raise ComposeRefused([str(error)]) from None
        return Post.objects.get(pk=post.pk)
    if post.state not in EDITABLE | {PostState.IN_REVIEW, PostState.APPROVED}:
        raise ComposeRefused(
            [_("A post that is %(state)s cannot be moved.") % {"state": post.get_state_display().lower()}]
        )
    before = post.scheduled_at
    post.scheduled_at = when
    post.save(update_fields=["scheduled_at", "updated_at"])
    record(actor, post.organization, "post.moved", post, {"scheduled_at": [before, when]})
    return post


@transaction.atomic
def duplicate_post(actor: Actor, post: Post) -> Post:
    """A new draft with the post's text, channels and images (not its time, reviews or results)."""
    user = _person(actor)
    if not may_write(user, post.brand):
        raise ComposeRefused([_("You may not write posts for this brand.")])
    copy = Post.objects.create(
        organization=post.organization,
        brand=post.brand,
        created_by=user,
        title=post.title,
        text=post.text,
        utm_campaign=post.utm_campaign,
    )
    Variant.objects.bulk_create(
        Variant(post=copy, channel_id=variant.channel_id, text=variant.text, placement=variant.placement)
        for variant in Variant.objects.filter(post=post)
    )
    PostMedia.objects.bulk_create(
        PostMedia(post=copy, asset_id=item.asset_id, position=item.position)
        for item in PostMedia.objects.filter(post=post)
    )
    record(actor, post.organization, "post.duplicated", copy, {"from": [None, post.pk]})
    return copy


# --- steps -------------------------------------------------------------------------------------


def _person(actor: Actor) -> User:
    if actor.user is None:
        raise ComposeRefused([_("Only a person can write posts.")])
    return actor.user


def _lock(post: Post) -> Post:
    return (
        Post.objects.select_for_update(of=("self",)).select_related("organization", "brand").get(pk=post.pk)
    )


def _check_time(when: datetime | None) -> None:
    refusal = time_refusal(when)
    if refusal:
        raise ComposeRefused([refusal])


def _validate(brand: Brand, spec: DraftSpec) -> tuple[dict[int, Channel], dict[int, MediaAsset]]:
    errors: list[str] = []
    if len(spec.text) > MAX_TEXT:
        errors.append(_("The text has at most %(n)d characters.") % {"n": MAX_TEXT})
    if "\x00" in spec.text or any("\x00" in variant.text for variant in spec.variants):
        errors.append(_("The text contains a NUL character, which no network accepts."))
    if len(spec.title.strip()) > MAX_TITLE:
        errors.append(_("The internal title has at most %(n)d characters.") % {"n": MAX_TITLE})
    if len(spec.utm_campaign.strip()) > MAX_CAMPAIGN:
        errors.append(_("The campaign name has at most %(n)d characters.") % {"n": MAX_CAMPAIGN})
    try:
        _check_time(spec.scheduled_at)
    except ComposeRefused as refused:
        errors.extend(refused.messages)
    ids = [variant.channel_id for variant in spec.variants]
    if len(ids) > MAX_CHANNELS:
        errors.append(_("A post goes to at most %(n)d channels.") % {"n": MAX_CHANNELS})
    if len(set(ids)) != len(ids):
        errors.append(_("Each channel can appear only once in a post."))
    channels = {channel.pk: channel for channel in Channel.objects.filter(brand=brand, pk__in=ids)}
    if len(channels) != len(set(ids)):
        errors.append(_("One of the channels is not this brand's."))
    for variant in spec.variants:
        if len(variant.text) > MAX_TEXT:
            errors.append(_("The text has at most %(n)d characters.") % {"n": MAX_TEXT})
        if variant.placement and variant.placement not in {placement.value for placement in Placement}:
            errors.append(_("Choose an image format from the list."))
    if len(spec.media) > MAX_IMAGES:
        errors.append(_("A post carries at most %(n)d images.") % {"n": MAX_IMAGES})
    if len(set(spec.media)) != len(spec.media):
        errors.append(_("Each image can appear only once in a post."))
    assets = {asset.pk: asset for asset in MediaAsset.objects.filter(brand=brand, pk__in=spec.media)}
    if len(assets) != len(set(spec.media)):
        errors.append(_("One of the images is not in this brand's media library."))
    if errors:
        raise ComposeRefused(list(dict.fromkeys(errors)))
    return channels, assets


def _write_parts(
    post: Post, spec: DraftSpec, channels: dict[int, Channel], assets: dict[int, MediaAsset]
) -> None:
    Variant.objects.bulk_create(
        Variant(
            post=post, channel=channels[variant.channel_id], text=variant.text, placement=variant.placement
        )
        for variant in spec.variants
    )
    PostMedia.objects.bulk_create(
        PostMedia(post=post, asset=assets[asset_id], position=position)
        for position, asset_id in enumerate(spec.media)
    )


def _take_off_ledger(post: Post) -> None:
    """A scheduled post's deliveries leave the ledger before an edit, unless one has started.

    A delivery that was tried already (a retry is waiting) has a history worth keeping: that edit is
    refused too. Each is cancelled with a conditional update first, so a worker that claims one at this very
    moment makes the edit fail rather than lose track of a post on its way out; the rows then go
    with their variants (they never went out: there is no history to keep).
    """
    refused = ComposeRefused(
        [_("This post has started going out and can no longer be edited; duplicate it to write a new one.")]
    )
    for target in DeliveryTarget.objects.filter(post=post):
        if target.state == TargetState.CANCELLED and not target.attempts:
            continue
        if (
            target.attempts
            or target.state not in NOT_STARTED
            or not states.move(target.pk, TargetState(target.state), TargetState.CANCELLED)
        ):
            raise refused


def _summary(post: Post, spec: DraftSpec) -> dict[str, list[object]]:
    # The audit keeps what changed in shape, not the copy itself (the post row has it).
    return {
        "version": [None, post.version],
        "channels": [None, sorted(variant.channel_id for variant in spec.variants)],
        "media": [None, list(spec.media)],
        "scheduled_at": [None, post.scheduled_at],
    }
