"""Holding and releasing publishing for a brand or the whole organization (crisis mode uses these),
or for one channel (a compromised account: tertulia.guard).

While a pause is on, nothing of its scope goes out: deliveries that come due wait in the ledger, and
one already claimed is given back at the instant before its network call. Resuming releases them
at once; to stop a post that was held, cancel or reschedule it before resuming.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Organization
from tertulia.core.permissions import Perm, covers_all_brands, has_perm
from tertulia.live.publish import notify_organization
from tertulia.publishing.models import ChannelPause, DeliveryTarget, Pause, TargetState

MAX_REASON = 300


class PauseRefused(Exception):
    pass


def _require(actor: Actor, organization: Organization, brand: Brand | None = None) -> None:
    # An actor without a person is Tertulia itself (a crisis rule, the command line): trusted code.
    if actor.user is None:
        return
    # A brand's pause needs that brand; the whole organization's, every brand (docs/permissions.md).
    allowed = has_perm(actor.user, organization, Perm.MANAGE_PUBLISHING, brand)
    if not allowed or (brand is None and not covers_all_brands(actor.user, organization)):
        raise PauseRefused(_("You may not pause or resume publishing."))


@transaction.atomic
def pause(
    actor: Actor,
    organization: Organization,
    brand: Brand | None = None,
    *,
    reason: str = "",
    crisis: bool = False,
) -> Pause:
    """Hold publishing for `brand` (None: every brand of the organization). One active pause per scope."""
    _require(actor, organization, brand)
    if brand is not None and brand.organization_id != organization.pk:
        raise PauseRefused(_("That brand is not in this organization."))
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise PauseRefused(_("The reason has at most %(n)d characters.") % {"n": MAX_REASON})
    existing = Pause.objects.select_for_update().filter(
        organization=organization, brand=brand, ended_at__isnull=True
    )
    found = existing.first()
    if found is not None:
        if crisis and not found.is_crisis:
            found.is_crisis = True
            found.save(update_fields=["is_crisis"])
            record(actor, organization, "publishing.crisis_mode", found, {"is_crisis": [False, True]})
        return found
    try:
        with transaction.atomic():
            created = Pause.objects.create(
                organization=organization, brand=brand, is_crisis=crisis, reason=reason, started_by=actor.user
            )
    except IntegrityError:
        # Someone paused the same scope at this very moment (the unique constraint): theirs stands.
        return Pause.objects.get(organization=organization, brand=brand, ended_at__isnull=True)
    record(
        actor,
        organization,
        "publishing.paused",
        created,
        {"brand": [None, brand.name if brand else "*"], "crisis": [None, crisis], "reason": [None, reason]},
    )
    notify_organization(organization.pk, "publishing")
    return created


@transaction.atomic
def resume(actor: Actor, paused: Pause) -> Pause:
    organization = paused.organization
    _require(actor, organization, paused.brand)
    paused = Pause.objects.select_for_update().get(pk=paused.pk)
    if paused.ended_at is not None:
        raise PauseRefused(_("Publishing was already resumed."))
    paused.ended_at = timezone.now()
    paused.ended_by = actor.user
    paused.save(update_fields=["ended_at", "ended_by"])
    record(actor, organization, "publishing.resumed", paused, {"ended_at": [None, paused.ended_at]})
    notify_organization(organization.pk, "publishing")
    return paused


@transaction.atomic
def leave_crisis_mode(actor: Actor, paused: Pause) -> Pause:
    """Keep publishing paused, on purpose, without crisis mode (tertulia.crisis.mode.end_crisis)."""
    _require(actor, paused.organization, paused.brand)
    paused = Pause.objects.select_for_update().get(pk=paused.pk)
    if paused.ended_at is None and paused.is_crisis:
        paused.is_crisis = False
        paused.save(update_fields=["is_crisis"])
        record(actor, paused.organization, "publishing.crisis_mode", paused, {"is_crisis": [True, False]})
        notify_organization(paused.organization_id, "publishing")
    return paused


def held(organization: Organization, brand: Brand | None = None) -> QuerySet[DeliveryTarget]:
    """Deliveries that came due and wait only for a pause to end."""
    rows = DeliveryTarget.objects.filter(
        organization=organization,
        state__in=[TargetState.DUE, TargetState.SCHEDULED],
        due_at__lte=timezone.now(),
    )
    return rows.filter(Q(brand=brand)) if brand is not None else rows


# --- one channel --------------------------------------------------------------------------------


def _require_channel(actor: Actor, channel: Channel) -> None:
    # Holding one channel is part of managing it (a compromised account is a channel's emergency).
    if actor.user is not None and not has_perm(
        actor.user, channel.organization, Perm.MANAGE_CHANNELS, channel.brand
    ):
        raise PauseRefused(_("You may not pause or resume publishing on this channel."))


@transaction.atomic
def pause_channel(actor: Actor, channel: Channel, *, reason: str = "") -> ChannelPause:
    """Hold every post and reply of `channel` (up to the instant of sending). One active pause per channel."""
    _require_channel(actor, channel)
    reason = reason.strip()[:MAX_REASON]
    found = ChannelPause.objects.select_for_update().filter(channel=channel, ended_at__isnull=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            created = ChannelPause.objects.create(
                organization_id=channel.organization_id, channel=channel, reason=reason, started_by=actor.user
            )
    except IntegrityError:
        return ChannelPause.objects.get(channel=channel, ended_at__isnull=True)
    record(
        actor,
        channel.organization,
        "publishing.channel_paused",
        channel,
        {"channel": [None, channel.handle], "reason": [None, reason]},
    )
    notify_organization(channel.organization_id, "publishing")
    return created


@transaction.atomic
def resume_channel(actor: Actor, paused: ChannelPause) -> ChannelPause:
    channel = paused.channel
    _require_channel(actor, channel)
    paused = ChannelPause.objects.select_for_update().get(pk=paused.pk)
    if paused.ended_at is not None:
        raise PauseRefused(_("Publishing was already resumed."))
    paused.ended_at = timezone.now()
    paused.ended_by = actor.user
    paused.save(update_fields=["ended_at", "ended_by"])
    record(
        actor,
        channel.organization,
        "publishing.channel_resumed",
        channel,
        {"channel": [None, channel.handle], "ended_at": [None, paused.ended_at]},
    )
    notify_organization(channel.organization_id, "publishing")
    return paused


def active_channel_pause(channel: Channel) -> ChannelPause | None:
    return ChannelPause.objects.filter(channel=channel, ended_at__isnull=True).first()


def held_on_channel(channel: Channel) -> QuerySet[DeliveryTarget]:
    """Deliveries of `channel` not yet out: what goes out when its pause ends (unless cancelled)."""
    return DeliveryTarget.objects.filter(
        channel=channel, state__in=[TargetState.SCHEDULED, TargetState.DUE, TargetState.CLAIMED]
    )
