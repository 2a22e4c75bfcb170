"""An organization's sign-in rules: a required second factor, and its own single sign-on (OIDC)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Organization, Role


class SecurityPolicy(models.Model):
    """What an organization asks of its members when they sign in. No row: nothing beyond a password."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="security_policy"
    )
    require_second_factor = models.BooleanField(_("require a second factor"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policies")

    def __str__(self) -> str:
        return f"security policy of {self.organization}"


# Roles a person may get by joining through single sign-on on their own (never owner or admin).
JOIN_ROLES = (Role.CONTRIBUTOR, Role.ANALYST, Role.APPROVER, Role.COMMUNITY_MANAGER)


class SsoConnection(models.Model):
    """An organization's OpenID Connect identity provider, used through allauth's `openid_connect`.

    The client secret is sealed with the vault's envelope encryption (never stored or shown in clear);
    `provider_id` is the allauth sub-provider id, also part of the callback address, so it never changes.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="sso")
    provider_id = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name shown on the button"), max_length=80)
    issuer = models.URLField(_("issuer URL"), max_length=500)
    client_id = models.CharField(_("client id"), max_length=255)
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    nonce = models.BinaryField()
    ciphertext = models.BinaryField()
    enabled = models.BooleanField(_("enabled"), default=True)
    # Password sign-in refused for addresses in this connection's verified domains.
    sso_only = models.BooleanField(_("single sign-on only"), default=False)
    # Someone the provider vouches for, in a verified domain, with no membership and no invitation,
    # joins with `join_role` instead of being turned away.
    auto_join = models.BooleanField(_("people from these domains may join on their own"), default=False)
    join_role = models.CharField(
        _("role for people who join on their own"),
        max_length=32,
        choices=[(role.value, role.label) for role in JOIN_ROLES],
        default=Role.CONTRIBUTOR,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("single sign-on connection")
        verbose_name_plural = _("single sign-on connections")

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer})"  # never the secret


class SsoDomain(models.Model):
    """An e-mail domain an organization's single sign-on covers. Claimed by one organization only.

    A domain acts (routes sign-ins, refuses passwords, creates or links accounts) only once
    verified by the installation's operator (`tertulia manage sso_domains verify`): otherwise one
    organization could claim another's addresses.
    """

    connection = models.ForeignKey(SsoConnection, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("single sign-on domain")
        verbose_name_plural = _("single sign-on domains")
        ordering = ("domain",)

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None
