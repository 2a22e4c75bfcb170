"""Recording that a channel connected through a person's own login is covered anyway (a waiver)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.core.permissions import Perm, has_perm
from tertulia.governance.coverage import depends_on_person
from tertulia.governance.models import CoverageWaiver

MAX_NOTE = 500


class WaiverRefused(ValueError):
    """The waiver cannot be recorded as asked; the message says why, in the person's language."""


def _require(actor: Actor, channel: Channel) -> None:
    if actor.user is not None and not has_perm(
        actor.user, channel.organization, Perm.MANAGE_CHANNELS, channel.brand
    ):
        raise WaiverRefused(_("You may not manage this channel."))


@transaction.atomic
def waive(actor: Actor, channel: Channel, note: str) -> CoverageWaiver:
    """Record how `channel` is covered although it depends on the login of whoever connected it."""
    _require(actor, channel)
    note = note.replace("\x00", "").strip()
    if not note:
        raise WaiverRefused(_("Say how the channel is covered, e.g. who else administers it on the network."))
    if len(note) > MAX_NOTE:
        raise WaiverRefused(_("The note has at most %(n)d characters.") % {"n": MAX_NOTE})
    if not depends_on_person(channel) or channel.connected_by_id is None:
        raise WaiverRefused(_("This channel does not depend on one person's own account."))
    waiver, _created = CoverageWaiver.objects.update_or_create(
        channel=channel,
        defaults={
            "organization": channel.organization,
            "connected_by_id": channel.connected_by_id,
            "note": note,
            "created_by": actor.user,
        },
    )
    record(
        actor,
        channel.organization,
        "channel.coverage_waiver",
        channel,
        {
            "note": [None, note],
            "connected_by": [None, channel.connected_by.email if channel.connected_by else None],
        },
    )
    return waiver


@transaction.atomic
def remove_waiver(actor: Actor, channel: Channel) -> bool:
    _require(actor, channel)
    deleted, _rows = CoverageWaiver.objects.filter(channel=channel).delete()
    if deleted:
        record(actor, channel.organization, "channel.coverage_waiver_removed", channel, {})
    return bool(deleted)
