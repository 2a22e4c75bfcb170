"""A post as people write and review it: one text, media, and a variant per target channel."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization
from tertulia.publishing.models.media import MediaAsset


class PostState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved, not scheduled")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    PARTIAL = "partial", _("Partly published")
    FAILED = "failed", _("Failed")
    # Some delivery may or may not be out and its network cannot be asked: a person looks.
    NEEDS_ATTENTION = "needs_attention", _("Needs attention")
    CANCELLED = "cancelled", _("Cancelled")


class Post(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="posts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("internal title"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    # Added to every link as utm_campaign (utm_source is the network, utm_medium "social").
    utm_campaign = models.CharField(_("campaign (UTM)"), max_length=100, blank=True)
    state = models.CharField(max_length=20, choices=PostState.choices, default=PostState.DRAFT)
    scheduled_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    # Bumped by every edit: an approval is of one version, and a later edit needs a new one.
    version = models.PositiveIntegerField(default=1)
    workflow = models.ForeignKey(
        "publishing.ApprovalWorkflow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_step = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("brand", "scheduled_at"), name="post_brand_calendar"),
            models.Index(fields=("brand", "state"), name="post_brand_state"),
        ]

    def __str__(self) -> str:
        return self.title or self.text[:60]


class PostMedia(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    asset = models.ForeignKey(MediaAsset, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position", "id")
        constraints = [models.UniqueConstraint(fields=("post", "asset"), name="post_media_once")]

    def __str__(self) -> str:
        return f"{self.post_id}#{self.position}"


class Variant(models.Model):
    """The post as it goes to one channel: its own text if the base text does not fit, its placement."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="variants")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    # Empty: the post's text.
    text = models.TextField(_("text for this network"), blank=True)
    placement = models.CharField(_("image format"), max_length=16, blank=True)

    class Meta:
        ordering = ("channel__network", "channel__handle")
        constraints = [models.UniqueConstraint(fields=("post", "channel"), name="variant_once_per_channel")]

    def __str__(self) -> str:
        return f"{self.post_id} → {self.channel_id}"


class PostComment(models.Model):
    """Review discussion on a draft; never published."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.text[:60]
