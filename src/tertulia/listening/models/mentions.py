"""What listening found: posts from any source, stored once per organization, and which query matched them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Organization
from tertulia.inbox.models.conversation import Intent, Sentiment
from tertulia.listening.models.queries import ListeningQuery


class Mention(models.Model):
    """A public post seen by a listening source. Unique per (organization, network, remote id), so a
    replayed firehose or an overlapping feed poll never stores it twice. The text is kept exactly as
    received and escaped wherever it is shown."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(
        "listening.ListeningSource", on_delete=models.SET_NULL, null=True, blank=True, related_name="mentions"
    )
    network = models.CharField(_("network"), max_length=32)
    remote_id = models.CharField(max_length=500)
    url = models.CharField(max_length=1000, blank=True)
    author_handle = models.CharField(_("author"), max_length=255, blank=True)
    author_name = models.CharField(max_length=255, blank=True)
    author_followers = models.PositiveIntegerField(null=True, blank=True)
    channel_name = models.CharField(max_length=255, blank=True)  # the channel or feed it came through
    text = models.TextField(_("text"), blank=True)
    published_at = models.DateTimeField(_("published"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    sentiment = models.CharField(
        _("sentiment"), max_length=16, choices=Sentiment.choices, default=Sentiment.NEUTRAL
    )
    sentiment_score = models.FloatField(default=0.0)
    intent = models.CharField(_("intent"), max_length=16, choices=Intent.choices, default=Intent.OTHER)

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(fields=("organization", "network", "remote_id"), name="mention_unique")
        ]
        indexes = [models.Index(fields=("organization", "-published_at"), name="mention_recent")]

    def __str__(self) -> str:
        return f"{self.network}:{self.remote_id}"


class QueryMatch(models.Model):
    """A mention a query matched. Copies the mention's time, sentiment and reach, so the insight
    charts (volume, sentiment share, share of voice) read one narrow index without a join."""

    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="matches")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="matches")
    published_at = models.DateTimeField()
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    matched_at = models.DateTimeField(auto_now_add=True)
    backfilled = models.BooleanField(default=False)  # found by a backtest over history, not live

    class Meta:
        constraints = [models.UniqueConstraint(fields=("query", "mention"), name="query_match_unique")]
        indexes = [models.Index(fields=("query", "published_at", "sentiment"), name="query_match_time")]

    def __str__(self) -> str:
        return f"{self.query_id}→{self.mention_id}"
