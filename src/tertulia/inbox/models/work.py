"""What the team adds while working conversations: tags, internal notes, saved replies, who is
available to take new work, and the notifications that call people in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Membership, Organization


class Tag(models.Model):
    """A label shared by the organization's brands, so one taxonomy covers every brand's report."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="inbox_tags")
    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ("name",)
        constraints = [models.UniqueConstraint(fields=("organization", "name"), name="tag_unique_per_org")]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    """An internal note on a conversation: never sent to the network; @mentions notify teammates."""

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("note"))
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"note {self.pk} on {self.conversation_id}"


class SavedReply(models.Model):
    """An answer in the brand's voice, one row per language; rows sharing `shortcut` are versions
    of the same answer. `body` may use variables such as {name} (see inbox.saved_replies)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="saved_replies")
    shortcut = models.SlugField(_("shortcut"), max_length=40)
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ("shortcut", "language")
        constraints = [
            models.UniqueConstraint(
                fields=("brand", "shortcut", "language"), name="saved_reply_once_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut} ({self.language})"


class AgentStatus(models.Model):
    """Whether a member takes new conversations now, and how many open ones they can carry."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="inbox_status")
    available = models.BooleanField(_("available"), default=True)
    # Open conversations assigned at once before automatic assignment skips the person; 0: no limit.
    capacity = models.PositiveIntegerField(_("capacity"), default=25)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("agent status")
        verbose_name_plural = _("agent statuses")

    def __str__(self) -> str:
        return f"{self.membership_id}: {'available' if self.available else 'away'}"


class Assignment(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round robin")
    BALANCED = "balanced", _("Fewest open conversations")


class InboxSettings(models.Model):
    """Per brand: how new conversations find an owner, and who hears about escalations."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="inbox_settings")
    assignment = models.CharField(
        _("assignment"), max_length=16, choices=Assignment.choices, default=Assignment.MANUAL
    )
    escalate_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalate to"),
    )

    class Meta:
        verbose_name = _("inbox settings")
        verbose_name_plural = _("inbox settings")

    def __str__(self) -> str:
        return f"inbox settings {self.brand_id}"


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mentioned in a note")
    ASSIGNED = "assigned", _("Conversation assigned")
    SLA_WARNING = "sla_warning", _("Answer due soon")
    SLA_BREACH = "sla_breach", _("Answer overdue")
    ESCALATION = "escalation", _("Escalated")
    APPROVAL = "approval", _("Approval requested")
    POST_REVIEW = "post_review", _("Post to review")
    POST_CHANGES = "post_changes", _("Changes requested on your post")
    POST_APPROVED = "post_approved", _("Your post was approved")
    PUBLISH_FAILED = "publish_failed", _("Post not published")
    LISTENING_ALERT = "listening_alert", _("Listening alert")
    GUARD_HOLD = "guard_hold", _("Held for review")
    SECURITY = "security", _("Security alert")  # tertulia.accounts: a second factor removed...
    CRISIS = "crisis", _("Crisis alert")  # tertulia.crisis.escalation: a surge, or the alarm raised
    ON_CALL = "on_call", _("On call")  # tertulia.teamops: a hand-over to you, a gap in the rotation
    FLAGGED = "flagged", _("Flagged by a colleague")  # tertulia.portal: an urgent conversation flagged
    CONTRIBUTION = "contribution", _("News on your contribution")  # tertulia.portal: accepted, a reply...


class Notification(models.Model):
    """Something a person should look at; shown in the app and pushed live to their open pages."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=500, blank=True)
    # Where to look (a post, a page) when it is not a conversation; a path inside Tertulia.
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("user", "read_at", "-created_at"), name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"
