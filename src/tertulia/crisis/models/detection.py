"""What is watched for surges (a brand's incoming messages, or a listening query's matches), the
per-minute counts the detector reads, and the surges it found (tertulia.crisis.detection)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization


class Sensitivity(models.TextChoices):
    # How unlikely under the learned baseline a count must be to raise an alert (detection.SENSITIVITY).
    LOW = "low", _("Low: only large surges")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High: earlier, more false alarms")


class WatchKind(models.TextChoices):
    BRAND = "brand", _("Everything the brand's channels receive")
    QUERY = "query", _("A listening query's matches")


class Watch(models.Model):
    """One series the detector follows: a brand's inbound messages, or one listening query."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="crisis_watches")
    kind = models.CharField(max_length=8, choices=WatchKind.choices)
    query = models.ForeignKey(
        "listening.ListeningQuery", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sensitivity = models.CharField(
        _("sensitivity"), max_length=8, choices=Sensitivity.choices, default=Sensitivity.NORMAL
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The minute (its start) that was under way at the last count; the next count resumes from it.
    counted_until = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # The learned rhythm (tertulia.crisis.detection.baseline.Baseline.as_json), relearned every few hours;
    # the baseline of people per minute is under its "people" key.
    baseline = models.JSONField(default=dict, blank=True)
    baseline_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("surge watch")
        verbose_name_plural = _("surge watches")
        ordering = ("brand_id", "kind", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("brand",), condition=models.Q(kind="brand"), name="crisis_watch_one_per_brand"
            ),
            models.UniqueConstraint(
                fields=("query",), condition=models.Q(kind="query"), name="crisis_watch_one_per_query"
            ),
        ]

    def __str__(self) -> str:
        return f"watch {self.kind} {self.query_id or self.brand_id}"


class Bucket(models.Model):
    """What arrived in one minute of one watch: all of it, how much of it was negative, and from how many
    different people."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="buckets")
    minute = models.DateTimeField()  # the minute's start, UTC
    volume = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("watch_id", "minute")
        constraints = [models.UniqueConstraint(fields=("watch", "minute"), name="crisis_bucket_once")]
        # Pruning (tertulia.crisis.retention) looks for old minutes of every watch at once.
        indexes = [models.Index(fields=("minute",), name="crisis_bucket_minute")]

    def __str__(self) -> str:
        return f"{self.watch_id}@{self.minute:%Y-%m-%d %H:%M}"


class Metric(models.TextChoices):
    VOLUME = "volume", _("Volume")
    PEOPLE = "people", _("People writing")
    NEGATIVE = "negative", _("Negative share")


class Surge(models.Model):
    """A rise the detector found unlikely under the baseline, with what explains it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="surges")
    metric = models.CharField(max_length=8, choices=Metric.choices)
    started_at = models.DateTimeField()  # the first minute of the window that rose
    detected_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)  # back within the baseline
    window_minutes = models.PositiveSmallIntegerField()
    observed = models.FloatField()  # volume in the window, or the negative share (0..1)
    expected = models.FloatField()
    ratio = models.FloatField()  # observed / expected
    p_value = models.FloatField()  # the tail probability under the baseline
    # What rose and why: {"top_terms": [...], "authors": [...], "examples": [...], ...}; texts verbatim.
    explanation = models.JSONField(default=dict)
    is_rehearsal = models.BooleanField(default=False)  # found on sandbox traffic staged for practice

    class Meta:
        ordering = ("-detected_at", "-id")
        indexes = [models.Index(fields=("organization", "-detected_at"), name="crisis_surge_recent")]

    def __str__(self) -> str:
        return f"surge {self.pk} ({self.metric} x{self.ratio:.1f})"
