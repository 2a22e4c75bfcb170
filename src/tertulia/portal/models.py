"""The contributor portal (seed 003: a central hub and many spokes) and the brand's guidelines library.

Anyone in the organization proposes content or flags a conversation (`Contribution`); the social team
triages them. `Guideline` holds a brand's written guidelines with every version kept
(`GuidelineVersion`). See docs/contributor-portal.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization

MAX_TEXT = 4000
MAX_WHY = 1000
MAX_LINK = 500
MAX_REPLY = 1000
MAX_TITLE = 200
MAX_BODY = 20_000


class ContributionKind(models.TextChoices):
    IDEA = "idea", _("Content idea")
    FLAG = "flag", _("Flagged conversation")


class ContributionStatus(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    DONE = "done", _("Done")


class Urgency(models.TextChoices):
    LOW = "low", _("Can wait")
    NORMAL = "normal", _("Today")
    URGENT = "urgent", _("Urgent: now")


class Contribution(models.Model):
    """An idea for a post, or a conversation out there the social team should see."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="contributions")
    kind = models.CharField(_("kind"), max_length=8, choices=ContributionKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Stored verbatim (rendered escaped): the idea's text, or what is going on in the conversation.
    text = models.TextField(_("text"), max_length=MAX_TEXT)
    link = models.CharField(_("link"), max_length=MAX_LINK, blank=True)  # http(s) only, checked by the action
    why = models.TextField(_("why it matters"), max_length=MAX_WHY, blank=True)
    suggested_date = models.DateField(_("suggested date"), null=True, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    # A flagged link that is one of the brand's inbox conversations.
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    image = models.ForeignKey(
        "publishing.MediaAsset", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ContributionStatus.choices, default=ContributionStatus.NEW
    )
    # The team's answer to the contributor (the reason, when declined).
    reply = models.TextField(_("reply"), max_length=MAX_REPLY, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("brand", "status", "-created_at"), name="contribution_queue"),
            models.Index(fields=("author", "-created_at"), name="contribution_author"),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def has_web_link(self) -> bool:
        """Whether the stored link is an http(s) address (checked when sent; checked again here,
        so a row written around the form never becomes a javascript: link)."""
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(self.link)
        except ValueError:
            return False
        return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and self.link.isprintable()


class GuidelineKind(models.TextChoices):
    VOICE = "voice", _("Voice and tone")
    MODERATION = "moderation", _("Moderation policy")
    CRISIS = "crisis", _("Crisis playbooks")
    COMMUNITY = "community", _("Community guidelines")
    LEGAL = "legal", _("Legal and other")


class Guideline(models.Model):
    """A written guideline of a brand; every saved version is kept in `GuidelineVersion`."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="guidelines")
    kind = models.CharField(_("kind"), max_length=12, choices=GuidelineKind.choices)
    title = models.CharField(_("title"), max_length=MAX_TITLE)
    # Plain text: blank lines make paragraphs, "- " lines make lists, addresses become links.
    body = models.TextField(_("text"), max_length=MAX_BODY, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("guideline")
        verbose_name_plural = _("guidelines")
        ordering = ("brand_id", "kind", "title", "id")

    def __str__(self) -> str:
        return self.title


class GuidelineVersion(models.Model):
    """A guideline as it was saved: who changed it and when."""

    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=GuidelineKind.choices)
    title = models.CharField(max_length=MAX_TITLE)
    body = models.TextField(max_length=MAX_BODY, blank=True)
    last_reviewed = models.DateField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("guideline_id", "-version")
        constraints = [
            models.UniqueConstraint(fields=("guideline", "version"), name="guideline_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"
