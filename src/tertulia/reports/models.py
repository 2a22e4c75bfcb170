"""Scheduled reports of a brand (who gets which sections when) and the runs that produced them.

A run keeps the documents it sent (one per language, HTML and PDF) in the database rather than in
files, so any worker or web process can serve a download whatever machine made it; only the last
`KEEP_RUNS` runs of a schedule are kept (docs/reports.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization

KEEP_RUNS = 12


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class Section(models.TextChoices):
    PUBLISHING = "publishing", _("Publishing")
    INBOX = "inbox", _("Inbox")
    LISTENING = "listening", _("Listening")
    AUDIENCE = "audience", _("Audience")
    OBJECTIVES = "objectives", _("Objectives")


ALL_SECTIONS = [s.value for s in Section]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ReportSchedule(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="report_schedules")
    title = models.CharField(_("title"), max_length=120)
    frequency = models.CharField(
        _("frequency"), max_length=16, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    weekday = models.PositiveSmallIntegerField(_("day of the week"), choices=Weekday.choices, default=0)
    day_of_month = models.PositiveSmallIntegerField(
        _("day of the month"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("In shorter months, a later day is sent on the month's last day."),
    )
    hour = models.PositiveSmallIntegerField(
        _("hour"), default=8, validators=[MinValueValidator(0), MaxValueValidator(23)]
    )
    sections = models.JSONField(_("sections"), default=list)  # Section values, in Section order
    channel_ids = models.JSONField(_("channels"), default=list, blank=True)  # empty: every channel
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # [{"email": "...", "language": "es"}]: people outside the organization.
    external_recipients = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The scheduled time being worked towards (its period is the one reported) and when a worker
    # should next look at it: the same, or later while a worker holds it or a retry waits.
    due_at = models.DateTimeField()
    next_run_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # "Send now": when a worker should send the latest complete period outside the schedule (held a
    # lease ahead while one does), and who asked. Empty when nothing was asked for.
    send_now_at = models.DateTimeField(null=True, blank=True)
    send_now_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        ordering = ("title", "pk")
        indexes = [models.Index(fields=("is_active", "next_run_at"), name="report_schedule_due")]

    def __str__(self) -> str:
        return self.title


class RunStatus(models.TextChoices):
    OK = "ok", _("Sent")
    FAILED = "failed", _("Failed")


class ReportRun(models.Model):
    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="runs")
    first = models.DateField()
    last = models.DateField()
    generated_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=RunStatus.choices)
    manual = models.BooleanField(default=False)
    error = models.CharField(max_length=1000, blank=True)
    sent_to = models.JSONField(default=list)  # addresses the e-mail was handed to
    failed_to = models.JSONField(default=list)  # addresses it could not be sent to

    class Meta:
        ordering = ("-generated_at", "-pk")

    def __str__(self) -> str:
        return f"{self.schedule_id}:{self.first}..{self.last}"


class RunDocument(models.Model):
    """The report as sent in one language: the HTML and, when it could be made, the PDF."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="documents")
    language = models.CharField(max_length=8)
    html = models.TextField()
    pdf = models.BinaryField(null=True)
    pdf_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("language",)
        constraints = [models.UniqueConstraint(fields=("run", "language"), name="run_document_language")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.language}"
