from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SandboxAccount(models.Model):
    """A person or brand on the simulated network, addressed by its handle."""

    handle = models.CharField(_("handle"), max_length=30, unique=True)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    bio = models.TextField(_("bio"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Denormalised so reach is one read; `network.follow`/`unfollow` and the bulk
    # community loader keep it equal to the number of SandboxFollow rows.
    followers_count = models.PositiveIntegerField(_("followers"), default=0)
    is_brand = models.BooleanField(_("brand account"), default=False)
    # Per-account API limits, as real networks grant different tiers to different apps.
    write_limit = models.PositiveIntegerField(_("writes per window"), default=300)
    write_window_seconds = models.PositiveIntegerField(_("write window (seconds)"), default=300)
    read_limit = models.PositiveIntegerField(_("reads per window"), default=900)
    read_window_seconds = models.PositiveIntegerField(_("read window (seconds)"), default=900)
    # Off: the account behaves like a network with no idempotency keys (X, Facebook), so a client
    # can only avoid a double post by finding its own post by content (exercises reconciliation).
    keeps_idempotency_keys = models.BooleanField(_("honours idempotency keys"), default=True)
    # A slow network: the post is stored at once, its answer comes back this much later (the window
    # in which a client that dies has published without knowing it).
    response_delay_ms = models.PositiveIntegerField(_("response delay (ms)"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox account")
        verbose_name_plural = _("sandbox accounts")
        ordering = ("handle",)

    def __str__(self) -> str:
        return f"@{self.handle}"


class SandboxFollow(models.Model):
    follower = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="following_links")
    followee = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="follower_links")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox follow")
        verbose_name_plural = _("sandbox follows")
        constraints = [
            models.UniqueConstraint(fields=("follower", "followee"), name="sandbox_follow_unique"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")), name="sandbox_follow_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} → {self.followee_id}"


class SandboxBlock(models.Model):
    """`blocker` no longer receives anything new from `blocked`."""

    blocker = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox block")
        verbose_name_plural = _("sandbox blocks")
        constraints = [models.UniqueConstraint(fields=("blocker", "blocked"), name="sandbox_block_unique")]

    def __str__(self) -> str:
        return f"{self.blocker_id} ⊘ {self.blocked_id}"


class SandboxMute(models.Model):
    """Like a block for `muter`'s inbound, but the graph (follows) is left alone."""

    muter = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="mutes_made")
    muted = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="muted_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox mute")
        verbose_name_plural = _("sandbox mutes")
        constraints = [models.UniqueConstraint(fields=("muter", "muted"), name="sandbox_mute_unique")]

    def __str__(self) -> str:
        return f"{self.muter_id} ~ {self.muted_id}"
