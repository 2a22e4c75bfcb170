from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tertulia.connectors.sandbox.models.accounts import SandboxAccount


class PostKind(models.TextChoices):
    POST = "post", _("Post")
    REPLY = "reply", _("Reply")
    QUOTE = "quote", _("Quote")


class SandboxPost(models.Model):
    author = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="posts")
    kind = models.CharField(_("kind"), max_length=8, choices=PostKind.choices, default=PostKind.POST)
    in_reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    quote_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="quotes"
    )
    # First post of the reply chain; NULL on the root itself (see `thread_root_id`).
    root = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="thread_posts"
    )
    text = models.TextField(_("text"), blank=True)  # stored verbatim, never cleaned
    language = models.CharField(_("language"), max_length=8, blank=True)
    is_hidden = models.BooleanField(_("hidden"), default=False)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    # What the simulator meant (category, topic...): ground truth for tests and
    # benchmarks. The connector never exposes it to Tertulia.
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox post")
        verbose_name_plural = _("sandbox posts")
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("author", "idempotency_key"),
                condition=~models.Q(idempotency_key=""),
                name="sandbox_post_idempotency_unique",
            ),
        ]
        indexes = [models.Index(fields=("author", "id"), name="sandbox_post_author_id")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} by {self.author_id}"

    @property
    def thread_root_id(self) -> int:
        return self.root_id or self.pk


class SandboxMedia(models.Model):
    """Metadata of an attached image; the bytes are checked and then dropped."""

    post = models.ForeignKey(SandboxPost, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField(default=0)
    mime_type = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    alt_text = models.TextField(_("alt text"), blank=True)

    class Meta:
        verbose_name = _("sandbox media")
        verbose_name_plural = _("sandbox media")
        ordering = ("post", "position")

    def __str__(self) -> str:
        return f"{self.mime_type} on {self.post_id}"


class SandboxMention(models.Model):
    post = models.ForeignKey(SandboxPost, on_delete=models.CASCADE, related_name="mentions")
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="mentioned_in")

    class Meta:
        verbose_name = _("sandbox mention")
        verbose_name_plural = _("sandbox mentions")
        constraints = [models.UniqueConstraint(fields=("post", "account"), name="sandbox_mention_unique")]

    def __str__(self) -> str:
        return f"{self.post_id} @ {self.account_id}"


class SandboxMessage(models.Model):
    """A direct message."""

    sender = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="messages_sent")
    recipient = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="messages_received")
    text = models.TextField(_("text"))
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox direct message")
        verbose_name_plural = _("sandbox direct messages")
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=("sender", "idempotency_key"),
                condition=~models.Q(idempotency_key=""),
                name="sandbox_message_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"DM {self.pk} {self.sender_id} → {self.recipient_id}"


class SandboxLike(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="likes")
    post = models.ForeignKey(SandboxPost, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox like")
        verbose_name_plural = _("sandbox likes")
        constraints = [models.UniqueConstraint(fields=("account", "post"), name="sandbox_like_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} ♥ {self.post_id}"


class SandboxRepost(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="reposts")
    post = models.ForeignKey(SandboxPost, on_delete=models.CASCADE, related_name="reposts")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox repost")
        verbose_name_plural = _("sandbox reposts")
        constraints = [models.UniqueConstraint(fields=("account", "post"), name="sandbox_repost_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} ⟳ {self.post_id}"
