"""Stored time series: what the networks said (collected) and what our own data says (rolled up).

Dashboards and reports never scan messages, mentions or posts: they read one row per channel (or
query, or person) per day of the brand's calendar, so a year of a busy brand is a few tens of
thousands of rows however many messages it had (docs/analytics.md, docs/benchmarks.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization
from tertulia.listening.models import ListeningQuery
from tertulia.publishing.models import DeliveryTarget

# First response times are kept as counts per bucket, so that days add up and a period's median
# and 90th percentile can be read from the sum. Upper bounds in business minutes; the last bucket
# is open. Fine where it matters (minutes to a few hours), coarse beyond a day.
FRT_BOUNDS = (1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1440, 2880, 5760)


def empty_histogram() -> list[int]:
    return [0] * (len(FRT_BOUNDS) + 1)


class PostMetrics(models.Model):
    """The latest figures the network gave for one published post on one channel."""

    target = models.OneToOneField(DeliveryTarget, on_delete=models.CASCADE, related_name="metrics")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()  # copied from the target: the dashboards' period filter
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    impressions = models.PositiveBigIntegerField(null=True, blank=True)  # None: the network gives none
    collected_at = models.DateTimeField()

    class Meta:
        verbose_name = _("post metrics")
        verbose_name_plural = _("post metrics")
        indexes = [models.Index(fields=("brand", "sent_at"), name="post_metrics_period")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.target_id}"

    @property
    def engagements(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


class Collection(models.Model):
    """When a channel's metrics were last asked for, and when they are next due (claimed by workers)."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="metrics_collection")
    next_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=("next_at",), name="metrics_collection_due")]

    def __str__(self) -> str:
        return f"metrics of channel {self.channel_id}"


class ChannelDay(models.Model):
    """One channel's figures for one day of its brand's calendar (the brand's time zone)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # Audience, as collected from the network (the last count of the day); None: not collected.
    followers = models.PositiveIntegerField(null=True, blank=True)
    following = models.PositiveIntegerField(null=True, blank=True)
    # Publishing: posts sent that day and the engagement they have gathered since (latest collected).
    posts_published = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    impressions = models.PositiveBigIntegerField(default=0)  # of the posts whose network gives them
    engagements_with_impressions = models.PositiveIntegerField(default=0)  # engagement on those posts
    # Inbox: messages received and sent, by the sentiment of what was received.
    messages_in = models.PositiveIntegerField(default=0)
    messages_out = models.PositiveIntegerField(default=0)
    conversations_new = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    # Response targets started that day (tertulia.inbox.sla_report's rules).
    sla_met = models.PositiveIntegerField(default=0)
    sla_breached = models.PositiveIntegerField(default=0)
    first_responses = models.JSONField(default=empty_histogram)  # counts per FRT_BOUNDS bucket
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("channel", "day"), name="channel_day_unique")]
        indexes = [models.Index(fields=("brand", "day"), name="channel_day_period")]

    def __str__(self) -> str:
        return f"{self.channel_id}@{self.day}"


class QueryDay(models.Model):
    """One listening query's mentions for one day of its brand's calendar, by sentiment."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=16)  # the query's group (brand, competitor...) when counted
    day = models.DateField()
    mentions = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("query", "day"), name="query_day_unique")]
        indexes = [models.Index(fields=("brand", "day"), name="query_day_period")]

    def __str__(self) -> str:
        return f"{self.query_id}@{self.day}"


class PersonDay(models.Model):
    """What one person did in one channel of a brand's inbox on one day of the brand's calendar
    (per channel, so the dashboards' channel filter applies to people too)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    replies = models.PositiveIntegerField(default=0)  # messages they sent
    conversations = models.PositiveIntegerField(default=0)  # distinct conversations they answered
    after_hours = models.PositiveIntegerField(default=0)  # replies outside the brand's business hours
    weekend = models.PositiveIntegerField(default=0)  # replies on a Saturday or Sunday
    first_responses = models.JSONField(default=empty_histogram)  # first answers that were theirs
    # The histogram's total, so the per-person table reads only the rows that have one to add.
    # db_default: a worker of the previous version, writing while the upgrade runs, leaves it out.
    first_answers = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("brand", "user", "channel", "day"), name="person_day_unique")
        ]
        indexes = [
            models.Index(fields=("brand", "day"), name="person_day_period"),
            models.Index(fields=("organization", "user", "day"), name="person_day_person"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.day}"


class BrandRollup(models.Model):
    """When a brand's recent days are next rolled up; the worker that moves `next_at` does it."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="analytics_rollup")
    next_at = models.DateTimeField()
    last_done_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollup of brand {self.brand_id}"
