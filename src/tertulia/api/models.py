"""Personal access tokens for the REST API.

A token belongs to one person and acts in one organization. Only a SHA-256
digest of its secret is stored: the plaintext is shown once, when it is
created, and can never be recovered (a lost token is revoked and replaced).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Organization


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("person"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=100)
    # Public and not secret: shown in lists and used to find the row; the secret follows it in the token.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    digest = models.CharField(_("SHA-256 of the secret"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("user", "organization"), name="api_token_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired()
