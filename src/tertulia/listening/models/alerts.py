"""Alerts on a query: tell people when its volume or its negative share passes a threshold."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.listening.models.queries import ListeningQuery


class AlertKind(models.TextChoices):
    VOLUME = "volume", _("Mentions in the window above")
    NEGATIVE_SHARE = "negative_share", _("Negative share in the window above (%)")


class QueryAlert(models.Model):
    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("when"), max_length=16, choices=AlertKind.choices, default=AlertKind.VOLUME)
    threshold = models.PositiveIntegerField(_("threshold"))
    window_minutes = models.PositiveIntegerField(_("window (minutes)"), default=60)
    # A negative share over very few mentions means nothing: below this many, no alert.
    minimum_mentions = models.PositiveIntegerField(_("minimum mentions"), default=10)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("notify"))
    is_active = models.BooleanField(_("active"), default=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.CheckConstraint(condition=models.Q(window_minutes__gte=5), name="query_alert_window"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.threshold} on {self.query_id}"


class AlertEvent(models.Model):
    """Each time an alert fired: what was measured, for the query's page and the audit of who knew when."""

    alert = models.ForeignKey(QueryAlert, on_delete=models.CASCADE, related_name="events")
    fired_at = models.DateTimeField(auto_now_add=True)
    mentions = models.PositiveIntegerField()
    negative = models.PositiveIntegerField()
    value = models.FloatField()  # the volume, or the negative share in percent

    class Meta:
        ordering = ("-fired_at",)

    def __str__(self) -> str:
        return f"{self.alert_id} at {self.fired_at}"
