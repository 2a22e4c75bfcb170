from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models.organization import Organization


class Contact(models.Model):
    """An external person the organization's brands talk with, across networks."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    display_name = models.CharField(_("name"), max_length=255)
    is_customer = models.BooleanField(_("customer"), default=False)
    # VIP by hand; people above the brand's reach threshold count as influencers without it.
    is_vip = models.BooleanField(_("VIP"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ("display_name",)

    def __str__(self) -> str:
        return self.display_name

    @property
    def followers(self) -> int:
        """Reach: the largest audience among the person's handles."""
        return max((h.followers_count for h in self.handles.all()), default=0)


class ContactHandle(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contact_handles")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="handles")
    network = models.CharField(_("network"), max_length=32)
    handle = models.CharField(_("handle"), max_length=255)
    # The network's stable id for the account (a DID, a numeric id): handles can change, this does not.
    remote_id = models.CharField(max_length=255, blank=True)
    followers_count = models.PositiveIntegerField(_("followers"), default=0)
    profile_url = models.URLField(_("profile"), blank=True)

    class Meta:
        verbose_name = _("handle")
        verbose_name_plural = _("handles")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "network", "handle"), name="contact_handle_unique_per_org"
            ),
        ]
        indexes = [
            models.Index(fields=("organization", "network", "remote_id"), name="contact_handle_remote"),
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"
