"""Where listening reads from, besides the organization's connected channels (which always count)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Organization


class SourceKind(models.TextChoices):
    FEED = "feed", _("RSS or Atom feed")
    MASTODON_PUBLIC = "mastodon_public", _("Mastodon public timeline")
    MASTODON_HASHTAG = "mastodon_hashtag", _("Mastodon hashtag")


class ListeningSource(models.Model):
    """A feed or a Mastodon stream an organization listens to. The Bluesky firehose is not here: it is
    one stream for the whole installation, switched on by the operator (docs/listening.md#sources)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=24, choices=SourceKind.choices)
    name = models.CharField(_("name"), max_length=120)
    # The feed's address, or the Mastodon server's (https://mastodon.social).
    url = models.CharField(_("address"), max_length=500)
    hashtag = models.CharField(_("hashtag"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    cursor = models.TextField(blank=True)  # opaque to everyone but the source's reader
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # A stream is read by one worker at a time: it holds a lease and renews it while reading.
    holder = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("listening source")
        verbose_name_plural = _("listening sources")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "kind", "url", "hashtag"), name="listening_source_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class FirehoseState(models.Model):
    """The installation's one Bluesky firehose reader: where it is, and which worker holds it."""

    service = models.CharField(max_length=500, unique=True)  # the relay or PDS address
    cursor = models.BigIntegerField(null=True, blank=True)  # the last sequence number handled
    holder = models.CharField(max_length=200, blank=True)  # the worker reading it now
    lease_until = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.service
