"""What a finished target means for its post (published, partly published, failed) and its owner."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from tertulia.core.actions.audit import entry_for, record_many
from tertulia.core.actions.context import Actor
from tertulia.publishing.links import post_path
from tertulia.publishing.models import DeliveryTarget, Post, PostState, TargetState


def summarize(states: Counter[str], unknown: int = 0) -> PostState:
    """A post's state from its targets': a partial failure is shown as partial, never as published.

    `unknown`: how many of the targets needing attention may be out (`maybe_sent`).
    """
    live = {state: count for state, count in states.items() if state != TargetState.CANCELLED}
    if not live:
        return PostState.CANCELLED
    sent = live.get(TargetState.SENT, 0)
    stuck = live.get(TargetState.FAILED, 0) + live.get(TargetState.NEEDS_ATTENTION, 0)
    if sent == sum(live.values()):
        return PostState.PUBLISHED
    if sent and stuck:
        return PostState.PARTIAL
    if stuck and stuck == sum(live.values()):
        # "Failed" would be wrong where a delivery may be out: someone has to look first.
        return PostState.NEEDS_ATTENTION if unknown else PostState.FAILED
    return PostState.SCHEDULED


@transaction.atomic
def refresh_post_state(post_id: int) -> PostState:
    # The row lock orders two workers finishing two targets of one post at the same moment.
    post = Post.objects.select_for_update().get(pk=post_id)
    states = Counter(DeliveryTarget.objects.filter(post_id=post_id).values_list("state", flat=True))
    unknown = DeliveryTarget.objects.filter(
        post_id=post_id, state=TargetState.NEEDS_ATTENTION, maybe_sent=True
    ).count()
    state = summarize(states, unknown)
    if post.state != state:
        Post.objects.filter(pk=post_id).update(state=state)
    return state


def targets_finished(finished: Sequence[tuple[int, str, str]]) -> None:
    """(target id, state, error) of targets that just ended; called inside the recording transaction."""
    if not finished:
        return
    targets = {
        t.pk: t
        for t in DeliveryTarget.objects.select_related("channel").filter(pk__in=[f[0] for f in finished])
    }
    for post_id in sorted({t.post_id for t in targets.values()}):
        refresh_post_state(post_id)
    _audit(targets, finished)
    for target_id, state, error in finished:
        if state in (TargetState.FAILED, TargetState.NEEDS_ATTENTION):
            _tell_owner(targets[target_id], error)


# The send result of each target in the audit trail (what went out where, or why not).
RESULT_ACTIONS = {
    TargetState.SENT: "post.published",
    TargetState.FAILED: "post.publish_failed",
    TargetState.NEEDS_ATTENTION: "post.publish_uncertain",
    TargetState.CANCELLED: "post.publish_cancelled",
}
PUBLISHER = Actor.system("publisher")


def _audit(targets: dict[int, DeliveryTarget], finished: Sequence[tuple[int, str, str]]) -> None:
    posts = Post.objects.in_bulk({t.post_id for t in targets.values()})
    entries = []
    for target_id, state, error in finished:
        target = targets[target_id]
        post = posts[target.post_id]
        changes: dict[str, Any] = {
            "channel": [None, f"@{target.channel.handle} ({target.channel.network})"],
            "state": [None, state],
        }
        if state == TargetState.SENT:
            changes["remote_id"] = [None, target.remote_id]
            if target.url:
                changes["url"] = [None, target.url]
        elif error:
            changes["error"] = [None, error[:500]]
        entries.append(
            entry_for(PUBLISHER, target.organization_id, RESULT_ACTIONS[TargetState(state)], post, changes)
        )
    record_many(entries)


def _tell_owner(target: DeliveryTarget, error: str) -> None:
    from tertulia.inbox.models import NotificationKind
    from tertulia.inbox.notifications import notify_people

    post = Post.objects.select_related("created_by").get(pk=target.post_id)
    owner = post.created_by
    if owner is None:
        return
    with override(owner.language or None):
        text = _("“%(post)s” was not published on @%(handle)s: %(error)s") % {
            "post": str(post)[:80],
            "handle": target.channel.handle,
            "error": error[:300],
        }
    notify_people(
        target.organization_id,
        [owner],
        NotificationKind.PUBLISH_FAILED,
        text,
        url=post_path(post.pk),
    )
