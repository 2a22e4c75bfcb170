"""On-call rotations, overrides, hand-over notes, time off and working hours (docs/team-operations.md).

A rotation hands over at a wall-clock time of its own time zone ("Mondays at 09:00, Europe/Madrid"),
so a shift that spans a daylight-saving change lasts an hour more or less: people hand over when
their clocks say so. Everything else (overrides, time off, notes) is stored as UTC instants.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Membership, Organization
from tertulia.core.models.brand import validate_timezone

MAX_SHIFT_DAYS = 28
MAX_NAME = 120
MAX_NOTE = 4000
MAX_REASON = 200


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Rotation(models.Model):
    """Who is on call, in turns: each member for `shift_days` days, handing over at `handover_time`.

    The first shift starts at the first `handover_weekday` on or after `starts_on` (any day when
    the weekday is empty), at `handover_time` in `timezone`; nobody is on call before it.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rotations")
    name = models.CharField(_("name"), max_length=MAX_NAME)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Madrid", validators=[validate_timezone]
    )
    all_brands = models.BooleanField(_("covers every brand"), default=True)
    brands = models.ManyToManyField(Brand, blank=True, related_name="rotations", verbose_name=_("brands"))
    shift_days = models.PositiveSmallIntegerField(
        _("shift length in days"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SHIFT_DAYS)],
    )
    handover_time = models.TimeField(_("hand-over time"), default=time(9, 0))
    handover_weekday = models.PositiveSmallIntegerField(
        _("hand-over weekday"), choices=Weekday.choices, null=True, blank=True
    )
    starts_on = models.DateField(_("first shift from"))
    is_active = models.BooleanField(_("active"), default=True)
    # The last hand-over whose incoming person was told (claimed by one worker: see handover.py).
    handover_told_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "id")
        verbose_name = _("on-call rotation")
        verbose_name_plural = _("on-call rotations")

    def __str__(self) -> str:
        return self.name


class RotationMember(models.Model):
    """One turn of a rotation, in `position` order."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("rotation_id", "position")
        constraints = [
            models.UniqueConstraint(fields=("rotation", "position"), name="teamops_member_position_once"),
            models.UniqueConstraint(fields=("rotation", "membership"), name="teamops_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rotation_id}#{self.position}: {self.membership_id}"


class Override(models.Model):
    """Someone covers a span for the rotation: a swap, a holiday, a sick day. Overrides win."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Whom they cover for (informative: the schedule decides who that was).
    covers_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=MAX_REASON, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("starts_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="teamops_override_span"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rotation_id}: {self.user_id} {self.starts_at:%Y-%m-%d %H:%M}"


class HandoverNote(models.Model):
    """What the outgoing person leaves for the next shift: open issues, things to watch."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The hand-over it is for (the end of the shift it was written in).
    handover_at = models.DateTimeField()
    text = models.TextField(_("hand-over note"), max_length=MAX_NOTE)
    created_at = models.DateTimeField(auto_now_add=True)
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-handover_at", "-id")

    def __str__(self) -> str:
        return f"{self.rotation_id}: {self.author_id} {self.handover_at:%Y-%m-%d %H:%M}"


class TimeOff(models.Model):
    """A span in which the person does not work: no conversations, no on-call."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    note = models.CharField(_("note"), max_length=MAX_REASON, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("starts_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="teamops_timeoff_span"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.starts_at:%Y-%m-%d} - {self.ends_at:%Y-%m-%d}"


class WorkingHours(models.Model):
    """A person's time zone and, optionally, their hours per weekday (`inbox.businesshours` form)."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="working_hours")
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Madrid", validators=[validate_timezone]
    )
    # {"mon": [["09:00", "17:00"]], ...}; empty: no hours set (works whenever available).
    week = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.timezone}"


class GapKind(models.TextChoices):
    NO_ROTATION = "no_rotation", _("No rotation covers the brand")
    NOBODY = "nobody", _("Nobody is on call")
    TIME_OFF = "time_off", _("The person on call is on time off")
    INACTIVE = "inactive", _("The person on call no longer has access")


class GapWarning(models.Model):
    """A gap the managers were warned about. A gap overlapping a warned one of the same kind, place
    and person is the same gap: it is not warned again (its span is stretched instead)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16, choices=GapKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    warned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("starts_at", "id")

    def __str__(self) -> str:
        return f"{self.kind}: {self.starts_at:%Y-%m-%d %H:%M}"


class SweepClock(models.Model):
    """When a periodic job last ran, installation-wide; a worker claims a run with a conditional update."""

    name = models.CharField(max_length=60, unique=True)
    last_run = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
