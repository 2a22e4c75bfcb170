"""Changing rotations, overrides, time off, working hours and hand-over notes; each change audited.

Every action checks who may do it (views check too), validates with `full_clean()`, and writes the
change and its audit entry in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.inbox.businesshours import BusinessHours
from tertulia.teamops.access import may_manage, may_manage_brands
from tertulia.teamops.models import (
    MAX_NAME,
    MAX_NOTE,
    MAX_REASON,
    MAX_SHIFT_DAYS,
    HandoverNote,
    Override,
    Rotation,
    RotationMember,
    TimeOff,
    WorkingHours,
)
from tertulia.teamops.oncall import load_plans, may_cover

MAX_MEMBERS = 50
MAX_SPAN = timedelta(days=366)


class Refused(Exception):
    """The change was not made; the message says why (translated, fit to show)."""


class NotPermitted(Refused):
    pass


def _messages(error: ValidationError) -> str:
    return " ".join(str(m) for m in error.messages)


def _check_text(value: str, limit: int, what: str) -> str:
    if "\x00" in value:
        raise Refused(_("%(what)s contains a character that cannot be stored.") % {"what": what})
    if len(value) > limit:
        raise Refused(_("%(what)s is too long (at most %(n)d characters).") % {"what": what, "n": limit})
    return value


def _check_span(starts_at: datetime, ends_at: datetime) -> None:
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise Refused(_("Give both times with their time zone."))
    if ends_at <= starts_at:
        raise Refused(_("The end must come after the start."))
    if ends_at - starts_at > MAX_SPAN:
        raise Refused(_("A span lasts at most a year."))


# --- rotations ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RotationInput:
    name: str
    timezone: str
    all_brands: bool
    brand_ids: Sequence[int]
    shift_days: int
    handover_time: time
    handover_weekday: int | None
    starts_on: date
    member_ids: Sequence[int]  # membership ids, in turn order
    is_active: bool = True


def _validate(
    actor: Actor, organization: Organization, data: RotationInput
) -> tuple[list[Brand], list[Membership]]:
    if actor.user is None or not may_manage_brands(actor.user, organization, data.all_brands, data.brand_ids):
        raise NotPermitted(_("You may not manage rotations for these brands."))
    name = data.name.strip()
    if not name:
        raise Refused(_("Give the rotation a name."))
    _check_text(name, MAX_NAME, _("The name"))
    if not 1 <= data.shift_days <= MAX_SHIFT_DAYS:
        raise Refused(_("A shift lasts from 1 to %(n)d days.") % {"n": MAX_SHIFT_DAYS})
    if data.handover_weekday is not None and not 0 <= data.handover_weekday <= 6:
        raise Refused(_("Choose a weekday."))
    brands = list(Brand.objects.filter(organization=organization, pk__in=list(data.brand_ids)))
    if len(brands) != len(set(data.brand_ids)):
        raise Refused(_("Choose brands of this organization."))
    if not data.all_brands and not brands:
        raise Refused(_("Choose the brands the rotation covers, or every brand."))
    if len(data.member_ids) > MAX_MEMBERS:
        raise Refused(_("A rotation has at most %(n)d people.") % {"n": MAX_MEMBERS})
    if len(set(data.member_ids)) != len(data.member_ids):
        raise Refused(_("A person appears only once in a rotation."))
    found = {
        m.pk: m
        for m in Membership.objects.filter(
            organization=organization, is_active=True, pk__in=list(data.member_ids)
        ).select_related("user")
    }
    if len(found) != len(data.member_ids):
        raise Refused(_("Everyone in the rotation must be an active member of the organization."))
    members = [found[pk] for pk in data.member_ids]
    probe = Rotation(organization=organization, all_brands=data.all_brands)
    for member in members:
        if not may_cover(member, probe, [b.pk for b in brands]):
            raise Refused(
                _("%(name)s does not work in every brand this rotation covers.")
                % {"name": member.user.get_full_name()}
            )
    return brands, members


def _apply(rotation: Rotation, data: RotationInput) -> None:
    rotation.name = data.name.strip()
    rotation.timezone = data.timezone
    rotation.all_brands = data.all_brands
    rotation.shift_days = data.shift_days
    rotation.handover_time = data.handover_time
    rotation.handover_weekday = data.handover_weekday
    rotation.starts_on = data.starts_on
    rotation.is_active = data.is_active
    try:
        rotation.full_clean(exclude=["organization"])
    except ValidationError as error:
        raise Refused(_messages(error)) from None


def _snapshot(rotation: Rotation) -> dict[str, object]:
    return {
        "name": rotation.name,
        "timezone": rotation.timezone,
        "all_brands": rotation.all_brands,
        "brands": sorted(rotation.brands.values_list("pk", flat=True)),
        "shift_days": rotation.shift_days,
        "handover_time": rotation.handover_time.strftime("%H:%M"),
        "handover_weekday": rotation.handover_weekday,
        "starts_on": rotation.starts_on.isoformat(),
        "is_active": rotation.is_active,
        "members": list(rotation.members.order_by("position").values_list("membership_id", flat=True)),
    }


def _set_members(rotation: Rotation, brands: list[Brand], members: list[Membership]) -> None:
    rotation.brands.set([] if rotation.all_brands else brands)
    RotationMember.objects.filter(rotation=rotation).delete()
    RotationMember.objects.bulk_create(
        [RotationMember(rotation=rotation, membership=m, position=i) for i, m in enumerate(members)]
    )


@transaction.atomic
def create_rotation(actor: Actor, organization: Organization, data: RotationInput) -> Rotation:
    brands, members = _validate(actor, organization, data)
    rotation = Rotation(organization=organization)
    _apply(rotation, data)
    rotation.save()
    _set_members(rotation, brands, members)
    # Hand-overs before the rotation existed are not announced.
    plan = load_plans([rotation], timezone.now(), timezone.now())[0]
    index = plan.shift_index(timezone.now())
    rotation.handover_told_at = plan.shift_start(index) if index is not None else None
    rotation.save(update_fields=["handover_told_at"])
    changes = {key: [None, value] for key, value in _snapshot(rotation).items()}
    record(actor, organization, "teamops.rotation.created", rotation, changes)
    return rotation


@transaction.atomic
def update_rotation(actor: Actor, rotation: Rotation, data: RotationInput) -> Rotation:
    rotation = Rotation.objects.select_for_update().get(pk=rotation.pk)
    if actor.user is None or not may_manage(actor.user, rotation):
        raise NotPermitted(_("You may not manage this rotation."))
    brands, members = _validate(actor, rotation.organization, data)
    before = _snapshot(rotation)
    _apply(rotation, data)
    rotation.save()
    _set_members(rotation, brands, members)
    after = _snapshot(rotation)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        record(actor, rotation.organization, "teamops.rotation.changed", rotation, changes)
    return rotation


@transaction.atomic
def delete_rotation(actor: Actor, rotation: Rotation) -> None:
    if actor.user is None or not may_manage(actor.user, rotation):
        raise NotPermitted(_("You may not manage this rotation."))
    record(
        actor, rotation.organization, "teamops.rotation.deleted", rotation, {"name": [rotation.name, None]}
    )
    rotation.delete()


# --- overrides ---------------------------------------------------------------------------------------


@transaction.atomic
def add_override(
    actor: Actor,
    rotation: Rotation,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    *,
    covers_for: User | None = None,
    reason: str = "",
) -> Override:
    """`user` is on call for the rotation over [starts_at, ends_at), whatever the schedule says."""
    if actor.user is None or not may_manage(actor.user, rotation):
        raise NotPermitted(_("You may not manage this rotation."))
    _check_span(starts_at, ends_at)
    _check_text(reason, MAX_REASON, _("The reason"))
    member = Membership.objects.filter(organization=rotation.organization, user=user, is_active=True).first()
    if member is None or not user.is_active:
        raise Refused(_("Whoever covers must be an active member of the organization."))
    if not may_cover(member, rotation, list(rotation.brands.values_list("pk", flat=True))):
        raise Refused(
            _("%(name)s does not work in every brand this rotation covers.") % {"name": user.get_full_name()}
        )
    override = Override(
        rotation=rotation,
        user=user,
        covers_for=covers_for,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
        created_by=actor.user,
    )
    override.save()
    record(
        actor,
        rotation.organization,
        "teamops.override.added",
        override,
        {
            "rotation": [None, rotation.pk],
            "user": [None, user.pk],
            "covers_for": [None, covers_for.pk if covers_for else None],
            "span": [None, [starts_at.isoformat(), ends_at.isoformat()]],
        },
    )
    return override


@transaction.atomic
def remove_override(actor: Actor, override: Override) -> None:
    if actor.user is None or not may_manage(actor.user, override.rotation):
        raise NotPermitted(_("You may not manage this rotation."))
    record(
        actor,
        override.rotation.organization,
        "teamops.override.removed",
        override,
        {
            "user": [override.user_id, None],
            "span": [[override.starts_at.isoformat(), override.ends_at.isoformat()], None],
        },
    )
    override.delete()


# --- time off and working hours ------------------------------------------------------------------------


@transaction.atomic
def add_time_off(
    actor: Actor, member: Membership, starts_at: datetime, ends_at: datetime, note: str = ""
) -> TimeOff:
    """Record the member's own time off (nobody records it for someone else here)."""
    if actor.user is None or actor.user.pk != member.user_id or not member.is_active:
        raise NotPermitted(_("You record only your own time off."))
    _check_span(starts_at, ends_at)
    _check_text(note, MAX_REASON, _("The note"))
    span = TimeOff(membership=member, starts_at=starts_at, ends_at=ends_at, note=note.strip())
    span.save()
    record(
        actor,
        member.organization,
        "teamops.time_off.added",
        span,
        {"span": [None, [starts_at.isoformat(), ends_at.isoformat()]]},
    )
    return span


@transaction.atomic
def remove_time_off(actor: Actor, span: TimeOff) -> None:
    if actor.user is None or actor.user.pk != span.membership.user_id:
        raise NotPermitted(_("You change only your own time off."))
    record(
        actor,
        span.membership.organization,
        "teamops.time_off.removed",
        span,
        {"span": [[span.starts_at.isoformat(), span.ends_at.isoformat()], None]},
    )
    span.delete()


def working_hours_of(member: Membership) -> WorkingHours:
    """The member's time zone and hours; unsaved defaults (no hours, Europe/Madrid) if never set."""
    return WorkingHours.objects.filter(membership=member).first() or WorkingHours(membership=member)


@transaction.atomic
def set_working_hours(
    actor: Actor, member: Membership, tz: str, week: dict[str, list[list[str]]]
) -> WorkingHours:
    """The member's own time zone and hours per weekday (`{"mon": [["09:00", "17:00"]]}`; {} for none).
    Raises Refused with the schedule's own message when it does not parse."""
    if actor.user is None or actor.user.pk != member.user_id:
        raise NotPermitted(_("You set only your own working hours."))
    try:
        parsed = BusinessHours.from_dict({"timezone": tz, "week": week})
    except ValueError as error:
        raise Refused(str(error)) from None
    hours, _created = WorkingHours.objects.select_for_update().get_or_create(membership=member)
    before = {"timezone": hours.timezone, "week": hours.week}
    hours.timezone = tz
    hours.week = parsed.to_dict()["week"]
    try:
        hours.full_clean(exclude=["membership"])
    except ValidationError as error:
        raise Refused(_messages(error)) from None
    hours.save()
    after = {"timezone": hours.timezone, "week": hours.week}
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        record(actor, member.organization, "teamops.working_hours", member, changes)
    return hours


# --- hand-over notes -------------------------------------------------------------------------------------


@transaction.atomic
def write_note(actor: Actor, rotation: Rotation, text: str) -> HandoverNote:
    """The author's note for the rotation's next hand-over. Members of the rotation and whoever is on
    call in it by an override may write; the incoming person is told at the hand-over."""
    user = actor.user
    if user is None:
        raise NotPermitted(_("Sign in to write a hand-over note."))
    now = timezone.now()
    plan = load_plans([rotation], now, now)[0]
    in_rotation = any(m.user_id == user.pk for m in plan.members) or any(
        o.user_id == user.pk for o in plan.overrides
    )
    if not in_rotation:
        raise NotPermitted(_("Only the rotation's people write its hand-over notes."))
    text = text.strip()
    if not text:
        raise Refused(_("Write something for the next person."))
    _check_text(text, MAX_NOTE, _("The note"))
    if not plan.members and not plan.overrides:
        raise Refused(_("This rotation has nobody on call."))
    note = HandoverNote.objects.create(
        rotation=rotation, author=user, handover_at=plan.next_handover(now), text=text
    )
    record(
        actor,
        rotation.organization,
        "teamops.handover.written",
        note,
        {"handover_at": [None, note.handover_at.isoformat()]},
    )
    return note


def oncall_path() -> str:
    return reverse("web:oncall")
