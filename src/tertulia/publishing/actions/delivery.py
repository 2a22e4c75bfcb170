"""What a person does about deliveries: retry, confirm one a network cannot look up, cancel a post."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.connectors.registry import UnknownNetwork, connector_class
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.permissions import Perm, has_perm, may_operate_channel
from tertulia.publishing.delivery import ledger
from tertulia.publishing.delivery.sending import can_reconcile
from tertulia.publishing.models import DeliveryTarget, Post, PostState, TargetState


class DeliveryRefused(Exception):
    """The person may not do this, or the delivery is not in a state that allows it."""


def _require_operator(actor: Actor, target: DeliveryTarget) -> None:
    user = actor.user
    if user is None or not has_perm(user, target.channel.organization, Perm.PUBLISH_POSTS):
        raise DeliveryRefused(_("You may not publish posts."))
    if not may_operate_channel(user, target.channel):
        raise DeliveryRefused(_("You do not operate @%(handle)s.") % {"handle": target.channel.handle})


def retry_is_blind(target: DeliveryTarget) -> bool:
    """Whether a retry would send without any check: the target may be out and its network can
    neither be searched nor dedupe our key. The person retrying is then the check (the page says so)."""
    if not target.maybe_sent:
        return False
    try:
        connector = connector_class(target.channel.network)
    except UnknownNetwork:
        return False  # nothing can be sent there at all
    return not can_reconcile(connector, target)


@transaction.atomic
def retry_target(actor: Actor, target: DeliveryTarget) -> DeliveryTarget:
    """Try again. Where the network offers no way to check, the person has looked at the channel and
    not found the post: the retry sends (otherwise it would only ask them again, for ever)."""
    _require_operator(actor, target)
    if not ledger.retry(target, checked_by_person=retry_is_blind(target)):
        raise DeliveryRefused(_("Only a failed delivery, or one that needs attention, can be retried."))
    record(
        actor,
        target.post.organization,
        "post.delivery_retried",
        target.post,
        {"channel": target.channel.handle},
    )
    return DeliveryTarget.objects.get(pk=target.pk)


@transaction.atomic
def confirm_published(actor: Actor, target: DeliveryTarget, url: str) -> DeliveryTarget:
    """The person found the post on the network: record it as published (with its address, if given)."""
    _require_operator(actor, target)
    url = url.strip()
    if url and not url.startswith(("https://", "http://")):
        raise DeliveryRefused(_("The address must start with https:// or http://."))
    if target.state != TargetState.NEEDS_ATTENTION or not ledger.mark_published(target, url):
        raise DeliveryRefused(_("Only a delivery that needs attention can be confirmed by hand."))
    record(
        actor,
        target.post.organization,
        "post.delivery_confirmed",
        target.post,
        {"channel": target.channel.handle, "url": url},
    )
    return DeliveryTarget.objects.get(pk=target.pk)


@transaction.atomic
def cancel_post(actor: Actor, post: Post) -> Post:
    """Stop a post: drafts and reviews end; scheduled deliveries not yet sent are cancelled."""
    user = actor.user
    post = Post.objects.select_for_update().get(pk=post.pk)
    own = user is not None and post.created_by_id == user.pk
    if user is None or not (own or has_perm(user, post.organization, Perm.PUBLISH_POSTS)):
        raise DeliveryRefused(_("You may not cancel this post."))
    if post.state in (PostState.PUBLISHED, PostState.CANCELLED):
        raise DeliveryRefused(
            _("This post is already %(state)s.") % {"state": post.get_state_display().lower()}
        )
    before = post.state
    if post.targets.exists():
        ledger.cancel(post)
        post.refresh_from_db()
    else:
        post.state = PostState.CANCELLED
        post.save(update_fields=["state", "updated_at"])
    record(actor, post.organization, "post.cancelled", post, {"state": [before, post.state]})
    return post
