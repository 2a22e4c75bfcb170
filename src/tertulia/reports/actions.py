"""Changing report schedules (each change with its audit entry) and asking for one to be sent now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.permissions import Perm, brand_members, has_perm
from tertulia.reports import delivery, tasks
from tertulia.reports.models import ALL_SECTIONS, Frequency, ReportSchedule

MAX_RECIPIENTS = 50
MAX_EMAIL = 254


@dataclass
class ScheduleInput:
    title: str
    frequency: str = Frequency.WEEKLY
    weekday: int = 0
    day_of_month: int = 1
    hour: int = 8
    sections: Sequence[str] = field(default_factory=lambda: list(ALL_SECTIONS))
    channel_ids: Sequence[int] = ()
    member_ids: Sequence[int] = ()
    external: Sequence[tuple[str, str]] = ()  # (address, language)
    is_active: bool = True


def _check(actor: Actor, brand: Brand) -> None:
    if actor.user is None or not has_perm(actor.user, brand.organization, Perm.MANAGE_BRANDS, brand):
        raise PermissionDenied


def clean_external(items: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Addresses checked and without repeats; a bad one is refused with the reason."""
    languages = delivery.languages()
    cleaned: dict[str, dict[str, str]] = {}
    for raw_email, raw_language in items:
        email = raw_email.strip()
        try:
            if len(email) > MAX_EMAIL:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                _("“%(value)s” is not an e-mail address."), params={"value": email[:80]}, code="email"
            ) from None
        language = raw_language.strip().lower()
        if language not in languages:
            raise ValidationError(
                _("Choose the language of %(email)s: %(languages)s."),
                params={"email": email, "languages": ", ".join(sorted(languages))},
                code="language",
            )
        cleaned.setdefault(email.lower(), {"email": email, "language": language})
    return list(cleaned.values())


def _apply(schedule: ReportSchedule, data: ScheduleInput) -> list[User]:
    brand = schedule.brand
    schedule.title = data.title.strip()
    schedule.frequency = data.frequency
    schedule.weekday = data.weekday
    schedule.day_of_month = data.day_of_month
    schedule.hour = data.hour
    wanted = set(data.sections)
    schedule.sections = [s for s in ALL_SECTIONS if s in wanted]
    if not schedule.sections:
        raise ValidationError(_("Choose at least one section."), code="sections")
    ids = {int(pk) for pk in data.channel_ids}
    schedule.channel_ids = sorted(
        Channel.objects.filter(brand=brand, pk__in=ids).values_list("pk", flat=True)
    )
    if len(schedule.channel_ids) != len(ids):
        raise ValidationError(_("Choose channels of this brand."), code="channels")
    schedule.external_recipients = clean_external(data.external)
    allowed = brand_members(brand).filter(user_id__in=set(data.member_ids), user__is_active=True)
    members = list(User.objects.filter(pk__in=allowed.values("user_id")))
    if len(members) != len(set(data.member_ids)):
        raise ValidationError(_("Choose people who work in this brand."), code="members")
    emails = {u.email.lower() for u in members} | {e["email"].lower() for e in schedule.external_recipients}
    if len(emails) > MAX_RECIPIENTS:
        raise ValidationError(
            _("A report goes to at most %(n)d people."), params={"n": MAX_RECIPIENTS}, code="recipients"
        )
    if not emails:
        raise ValidationError(_("Choose at least one person to send it to."), code="recipients")
    schedule.is_active = data.is_active
    return members


# What an edit writes: every column but the "send now" request, which a worker may be ending at the
# same moment (and the row's identity).
NOT_EDITED = {"id", "organization", "brand", "created_at", "send_now_at", "send_now_by"}
EDITED_FIELDS = tuple(f.name for f in ReportSchedule._meta.concrete_fields if f.name not in NOT_EDITED)


def _reschedule(schedule: ReportSchedule, now: datetime) -> None:
    schedule.due_at = schedule.next_run_at = delivery.schedule_next(schedule, now)
    schedule.attempts = 0


def _audit_values(schedule: ReportSchedule, members: Sequence[User]) -> dict[str, object]:
    return {
        "title": schedule.title,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "hour": schedule.hour,
        "sections": schedule.sections,
        "channels": schedule.channel_ids,
        "members": sorted(u.email for u in members),
        "external": sorted(e["email"] for e in schedule.external_recipients),
        "active": schedule.is_active,
    }


def create_schedule(actor: Actor, brand: Brand, data: ScheduleInput) -> ReportSchedule:
    _check(actor, brand)
    schedule = ReportSchedule(organization=brand.organization, brand=brand)
    members = _apply(schedule, data)
    _reschedule(schedule, timezone.now())
    schedule.full_clean()
    with transaction.atomic():
        schedule.save()
        schedule.members.set(members)
        record(
            actor, brand.organization, "report.schedule_created", schedule, _audit_values(schedule, members)
        )
    return schedule


def update_schedule(actor: Actor, schedule: ReportSchedule, data: ScheduleInput) -> ReportSchedule:
    _check(actor, schedule.brand)
    before = _audit_values(schedule, list(schedule.members.all()))
    members = _apply(schedule, data)
    _reschedule(schedule, timezone.now())
    schedule.full_clean()
    after = _audit_values(schedule, members)
    with transaction.atomic():
        if not ReportSchedule.objects.select_for_update().filter(pk=schedule.pk).exists():
            raise ReportSchedule.DoesNotExist(schedule.pk)  # deleted while this edit was on its way
        schedule.save(update_fields=EDITED_FIELDS)
        schedule.members.set(members)
        changes = {key: [before[key], value] for key, value in after.items() if before[key] != value}
        record(actor, schedule.organization, "report.schedule_changed", schedule, changes)
    return schedule


def delete_schedule(actor: Actor, schedule: ReportSchedule) -> None:
    _check(actor, schedule.brand)
    with transaction.atomic():
        record(actor, schedule.organization, "report.schedule_deleted", schedule, {"title": schedule.title})
        schedule.delete()


def request_send(actor: Actor, schedule: ReportSchedule) -> bool:
    """Ask a worker to e-mail the latest complete period to the schedule's recipients now (the
    schedule's own times stay as they are). False when a request is already on its way."""
    _check(actor, schedule.brand)
    now = timezone.now()
    with transaction.atomic():
        asked = ReportSchedule.objects.filter(pk=schedule.pk, send_now_at__isnull=True).update(
            send_now_at=now, send_now_by=actor.user
        )
        if not asked:
            return False
        record(actor, schedule.organization, "report.send_requested", schedule, {"title": schedule.title})
        transaction.on_commit(tasks.send_requested_reports)
    return True
