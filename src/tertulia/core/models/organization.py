from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """The tenant: an agency, a company or a freelancer. Nothing crosses it."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Roles in increasing order of reach are listed in `tertulia.core.permissions`."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    BRAND_MANAGER = "brand_manager", _("Brand manager")
    COMMUNITY_MANAGER = "community_manager", _("Community manager")
    ANALYST = "analyst", _("Analyst")
    APPROVER = "approver", _("Approver")
    CONTRIBUTOR = "contributor", _("Contributor")


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.COMMUNITY_MANAGER)
    is_active = models.BooleanField(_("active"), default=True)
    # False: the role applies only to the brands listed in BrandAccess (owners and admins see all).
    all_brands = models.BooleanField(_("all brands"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=("organization", "user"), name="membership_unique_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class BrandAccess(models.Model):
    """A brand where a member limited to some brands (`Membership.all_brands=False`) has their role."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="brand_access")
    brand = models.ForeignKey("core.Brand", on_delete=models.CASCADE, related_name="member_access")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("brand access")
        verbose_name_plural = _("brand access")
        constraints = [
            models.UniqueConstraint(fields=("membership", "brand"), name="brand_access_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.membership} → {self.brand}"
