from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Channel, Organization


class Credential(models.Model):
    """A channel's secrets (tokens, session), sealed. Nobody reads them back in clear in the UI or API."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="credentials")
    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="credential")
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")

    def __str__(self) -> str:
        return f"credential of {self.channel}"  # never the secret


class NetworkApp(models.Model):
    """Tertulia's own registration with a network: client id, and sealed client and webhook secrets.

    Instance-wide, one per network and server address, because a network calls one webhook
    URL for every account connected through the app. An operator sets it (`tertulia apps set`),
    or, where a network lets any app register itself (Mastodon), Tertulia registers the first
    time someone signs in on that server and keeps the redirect URI it registered: an
    operator's registration has none, and is never replaced automatically.
    """

    network = models.CharField(_("network"), max_length=32)
    base_url = models.CharField(_("server"), max_length=255, blank=True)
    client_id = models.CharField(_("client id"), max_length=255)
    redirect_uri = models.CharField(_("registered redirect URI"), max_length=500, blank=True)
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("network app")
        verbose_name_plural = _("network apps")
        constraints = [models.UniqueConstraint(fields=("network", "base_url"), name="network_app_unique")]

    def __str__(self) -> str:
        return f"{self.network} app {self.client_id}"
