"""What the calendar shows: a brand's posts in a time range, each at the moment it sits at.

A post sits at its time (`scheduled_at`: the wished time of a draft, the time of a scheduled
post); a published (or partly published) post sits where it actually went out, at its first
delivery's `sent_at`. Cancelled posts and posts with no time are not on the calendar.
The web calendar and the API both read this, so they always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, Prefetch, Q

from tertulia.core.models import Brand, Channel, Organization, User
from tertulia.core.permissions import Perm, brands_for, has_perm
from tertulia.publishing.actions.queue import QUEUEABLE
from tertulia.publishing.models import DeliveryTarget, Post, PostState, TargetState, Variant

MAX_ENTRIES = 2000
WENT_OUT = frozenset({PostState.PUBLISHED, PostState.PARTIAL})


@dataclass(frozen=True)
class Entry:
    post: Post
    when: datetime
    channels: list[Channel]

    @property
    def went_out(self) -> bool:
        return self.post.state in WENT_OUT


def entries(
    brand: Brand, start: datetime, end: datetime, limit: int = MAX_ENTRIES
) -> tuple[list[Entry], bool]:
    """The brand's posts sitting in [start, end), earliest first, and whether there were more than `limit`."""
    timed = Post.objects.filter(brand=brand, scheduled_at__gte=start, scheduled_at__lt=end).values("pk")
    sent = DeliveryTarget.objects.filter(
        brand=brand, state=TargetState.SENT, sent_at__gte=start, sent_at__lt=end
    ).values("post_id")
    posts = (
        Post.objects.filter(Q(pk__in=timed) | Q(pk__in=sent), brand=brand)
        .exclude(state=PostState.CANCELLED)
        .annotate(first_sent=Min("targets__sent_at", filter=Q(targets__state=TargetState.SENT)))
        .select_related("brand", "created_by")
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.select_related("channel")))
    )
    found: list[Entry] = []
    for post in posts:
        first_sent = getattr(post, "first_sent", None)
        when = first_sent if post.state in WENT_OUT and first_sent is not None else post.scheduled_at
        if when is None or not start <= when < end:
            continue
        found.append(
            Entry(post=post, when=when, channels=[variant.channel for variant in post.variants.all()])
        )
    found.sort(key=lambda entry: (entry.when, entry.post.pk))
    return found[:limit], len(found) > limit


def mover(user: User, organization: Organization) -> Callable[[Post], bool]:
    """Whether `user` may move each post: `compose.may_edit` and a state `set_time` moves.

    The person's permissions are read once (a month can hold hundreds of posts), so the rule is
    spelled out here the way `may_edit` has it: anyone who may publish, or the author while they
    may still write posts.
    """
    publishes = has_perm(user, organization, Perm.PUBLISH_POSTS)
    proposes = has_perm(user, organization, Perm.PROPOSE_POSTS)
    brand_ids = set(brands_for(user, organization).values_list("pk", flat=True))

    def may_move(post: Post) -> bool:
        if post.state not in QUEUEABLE or post.organization_id != organization.pk:
            return False
        if post.brand_id not in brand_ids:
            return False
        return publishes or (proposes and post.created_by_id == user.pk)

    return may_move
