"""The two periodic jobs of on-call: telling the incoming person at each hand-over, and warning the
managers of gaps in the next 14 days, once per gap.

Every worker runs the ticker, so both claim their work in the database: a hand-over by moving the
rotation's `handover_told_at` from the value read to the new one (a conditional update only one worker
wins), the gap sweep by claiming its run on a `SweepClock` row the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import Perm, permissions_of
from tertulia.core.preview import preview
from tertulia.inbox.models import Notification, NotificationKind
from tertulia.inbox.notifications import notify_people
from tertulia.teamops.access import may_manage, may_manage_brands
from tertulia.teamops.actions import oncall_path
from tertulia.teamops.models import GapWarning, HandoverNote, Rotation, SweepClock
from tertulia.teamops.oncall import HORIZON, Gap, load_plans, outlook

logger = logging.getLogger(__name__)

# A hand-over found later than this (a worker that was down for hours) is marked told, not announced.
STALE_HANDOVER = timedelta(hours=6)
GAP_SWEEP_EVERY = timedelta(minutes=10)
# What a notification holds; a longer hand-over note is previewed there and read whole on the page.
MAX_TEXT = int(Notification._meta.get_field("text").max_length or 500)
KIND = NotificationKind.ON_CALL
# Unicode isolates around a name or a note, so right-to-left text does not reorder the sentence.
_ISOLATE, _END_ISOLATE = "\u2068", "\u2069"


def _in_language(user: User) -> str:
    from django.conf import settings

    return user.language or settings.LANGUAGE_CODE


def _when(value: datetime, tz: str) -> str:
    from tertulia.core.zones import zone

    local = value.astimezone(zone(tz))
    return f"{formats.date_format(local, 'SHORT_DATETIME_FORMAT')} ({tz})"


# --- hand-overs --------------------------------------------------------------------------------------


def tell_handovers(now: datetime | None = None) -> int:
    """Tell the incoming person of every rotation whose shift changed since it last told; returns how
    many people were told."""
    now = now or timezone.now()
    told = 0
    rotations = list(Rotation.objects.filter(is_active=True).select_related("organization"))
    for plan in load_plans(rotations, now - STALE_HANDOVER, now):
        try:
            told += _tell_one(plan.rotation, plan, now)
        except Exception:  # one rotation must not keep the others from being told
            logger.exception("hand-over of rotation %s could not be told", plan.rotation.pk)
    return told


def _tell_one(rotation: Rotation, plan: object, now: datetime) -> int:
    from tertulia.teamops.oncall import Plan

    assert isinstance(plan, Plan)
    index = plan.shift_index(now)
    if index is None:
        return 0
    start = plan.shift_start(index)
    previous = rotation.handover_told_at
    if previous is not None and previous >= start:
        return 0
    claim = Rotation.objects.filter(pk=rotation.pk)
    claim = (
        claim.filter(handover_told_at=previous) if previous else claim.filter(handover_told_at__isnull=True)
    )
    if not claim.update(handover_told_at=start):
        return 0  # another worker took it
    notes = list(
        HandoverNote.objects.filter(rotation=rotation, handover_at=start, told_at__isnull=True)
        .select_related("author")
        .order_by("created_at")
    )
    HandoverNote.objects.filter(pk__in=[n.pk for n in notes]).update(told_at=now)
    if now - start > STALE_HANDOVER:
        return 0
    people, _override = plan.people_at(start)
    until = plan.shift_start(index + 1)
    count = 0
    for user in people:
        theirs = [note for note in notes if note.author_id != user.pk]
        with translation.override(_in_language(user)):
            header = _("You are on call for %(rotation)s from %(start)s until %(end)s.") % {
                "rotation": rotation.name,
                "start": _when(start, rotation.timezone),
                "end": _when(until, rotation.timezone),
            }
            text = handover_text(header, theirs)
        count += len(notify_people(rotation.organization_id, [user], KIND, text, url=notes_link(theirs)))
    return count


def notes_link(notes: list[HandoverNote]) -> str:
    """Where the notes are shown whole: the note itself on the On call page, or its notes section."""
    if len(notes) == 1:
        return f"{oncall_path()}#note-{notes[0].pk}"
    return f"{oncall_path()}#handover-notes" if notes else oncall_path()


def handover_text(header: str, notes: list[HandoverNote], limit: int = MAX_TEXT) -> str:
    """The notice: `header`, then each note, whole if all fit in `limit` characters, else each
    previewed in an equal share of the room left (cut at a word, with "…") and a pointer to the page
    where they are read whole. Whitespace is folded: the notice is one paragraph."""

    def piece(note: HandoverNote, text: str) -> str:
        return " " + _("Hand-over from %(name)s: %(text)s") % {
            "name": f"{_ISOLATE}{note.author.get_full_name()}{_END_ISOLATE}",
            "text": f"{_ISOLATE}{text}{_END_ISOLATE}",
        }

    whole = header + "".join(piece(note, preview(note.text, len(note.text))) for note in notes)
    if len(whole) <= limit:
        return whole
    more = " " + ngettext(
        "Read the whole note on the On call page.", "Read the whole notes on the On call page.", len(notes)
    )
    text = preview(header, limit - len(more))
    for position, note in enumerate(notes):
        share = (limit - len(more) - len(text)) // (len(notes) - position) - len(piece(note, ""))
        if share > 0:
            text += piece(note, preview(note.text, share))
    return preview(text + more, limit)


# --- gaps ------------------------------------------------------------------------------------------------


def claim_run(name: str, now: datetime, every: timedelta) -> bool:
    """Whether this worker claimed the run of `name` due at `now` (at most one per `every`)."""
    try:
        with transaction.atomic():
            clock, _created = SweepClock.objects.get_or_create(name=name)
    except IntegrityError:  # another worker created it at the same moment
        clock = SweepClock.objects.get(name=name)
    last = clock.last_run
    if last is not None and now - last < every:
        return False
    mine = SweepClock.objects.filter(pk=clock.pk)
    mine = mine.filter(last_run=last) if last is not None else mine.filter(last_run__isnull=True)
    return mine.update(last_run=now) == 1


def managers_of(organization: Organization, gap: Gap) -> list[User]:
    """Who is warned: the people who may manage the gap's rotation (or rotations for its brand)."""
    members = Membership.objects.filter(
        organization=organization, is_active=True, user__is_active=True
    ).select_related("user", "organization")
    people = []
    for member in members.order_by("user__email"):
        if Perm.MANAGE_ROTATIONS not in permissions_of(member):
            continue
        if gap.rotation is not None:
            allowed = may_manage(member.user, gap.rotation)
        else:
            allowed = gap.brand is not None and may_manage_brands(
                member.user, organization, False, [gap.brand.pk]
            )
        if allowed:
            people.append(member.user)
    return people


def _gap_text(gap: Gap, user: User) -> str:
    with translation.override(_in_language(user)):
        where = gap.rotation.name if gap.rotation is not None else gap.brand.name if gap.brand else ""
        tz = gap.rotation.timezone if gap.rotation is not None else gap.brand.timezone if gap.brand else "UTC"
        text = _("On-call gap in %(where)s from %(start)s until %(end)s: %(what)s") % {
            "where": where,
            "start": _when(gap.starts_at, tz),
            "end": _when(gap.ends_at, tz),
            "what": gap.label,
        }
        if gap.user is not None:
            text += f" ({gap.user.get_full_name()})"
    return text


def warn_once(organization: Organization, gap: Gap) -> bool:
    """Warn the managers of `gap` unless a warning of the same gap (same kind, place, person, an
    overlapping span) was given; stretch that one's span instead. True when warned now."""
    same = GapWarning.objects.filter(
        organization=organization,
        rotation=gap.rotation,
        brand=gap.brand,
        kind=gap.kind,
        user=gap.user,
        starts_at__lte=gap.ends_at,
        ends_at__gte=gap.starts_at,
    ).first()
    if same is not None:
        if gap.ends_at > same.ends_at:
            GapWarning.objects.filter(pk=same.pk).update(ends_at=gap.ends_at)
        return False
    GapWarning.objects.create(
        organization=organization,
        rotation=gap.rotation,
        brand=gap.brand,
        kind=gap.kind,
        user=gap.user,
        starts_at=gap.starts_at,
        ends_at=gap.ends_at,
    )
    for manager in managers_of(organization, gap):
        notify_people(
            organization.pk,
            [manager],
            KIND,
            preview(_gap_text(gap, manager), MAX_TEXT),
            url=f"{oncall_path()}#oncall-gaps",
        )
    return True


def warn_gaps(now: datetime | None = None, organizations: Iterable[Organization] | None = None) -> int:
    """Warn about new gaps in the next 14 days, at most once every 10 minutes across workers; returns
    how many gaps were warned."""
    now = now or timezone.now()
    if not claim_run("teamops.gaps", now, GAP_SWEEP_EVERY):
        return 0
    warned = 0
    orgs = (
        organizations
        if organizations is not None
        else Organization.objects.filter(rotations__isnull=False).distinct()
    )
    for organization in orgs:
        try:
            with transaction.atomic():
                found = outlook(
                    organization,
                    Rotation.objects.filter(organization=organization, is_active=True),
                    Brand.objects.filter(organization=organization, is_archived=False),
                    now,
                    now + HORIZON,
                )
                warned += sum(warn_once(organization, gap) for gap in found.gaps)
        except Exception:  # one organization must not keep the others from being warned
            logger.exception("on-call gaps of organization %s could not be warned", organization.pk)
    return warned
