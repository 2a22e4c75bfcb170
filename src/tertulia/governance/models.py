"""Invitations: how a person joins an organization (docs/governance.md#invitations)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Channel, Organization, Role


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    EXPIRED = "expired", _("Expired")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    """An offer, sent by e-mail, to join an organization with a role, some brands and some channels.

    Only a SHA-256 digest of the link's secret is stored: the link is in the e-mail and nowhere
    else. It works once, until `expires_at`, and not after it is revoked or sent again (a resend
    makes a new secret). Accepting it creates the membership and its grants as they stand here.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"), max_length=254)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    # False: the role applies only to `brands` (as Membership.all_brands / BrandAccess).
    all_brands = models.BooleanField(_("all brands"), default=True)
    brands = models.ManyToManyField(Brand, blank=True, related_name="+", verbose_name=_("brands"))
    channels = models.ManyToManyField(Channel, blank=True, related_name="+", verbose_name=_("channels"))
    # The language the e-mail was written in (the inviter's): a resend uses it again.
    language = models.CharField(max_length=8, blank=True)
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    sent_count = models.PositiveIntegerField(default=0)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    # Why the last e-mail could not be sent ("" when it was): shown on the Team page.
    send_error = models.CharField(max_length=255, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ("-created_at", "-id")
        constraints = [
            # One open invitation per address and organization: a second one would be a second link.
            models.UniqueConstraint(
                fields=("organization", "email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_open_once_per_email",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def state_at(self, now: datetime | None = None) -> InvitationState:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if self.expires_at <= (now or timezone.now()):
            return InvitationState.EXPIRED
        return InvitationState.PENDING

    @property
    def state(self) -> InvitationState:
        return self.state_at()

    @property
    def is_open(self) -> bool:
        """Neither accepted nor revoked (it may have expired: a resend renews it)."""
        return self.accepted_at is None and self.revoked_at is None


class CoverageWaiver(models.Model):
    """Someone who manages channels says a channel connected through a person's own login is covered
    anyway (e.g. a second person administers the page on the network), with a note saying how.

    It applies while the channel stays connected by the same person and that person is a member; a
    reconnection by someone else, or their leaving, brings the gap back (docs/governance.md).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="coverage_waiver")
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("how it is covered"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("coverage waiver")
        verbose_name_plural = _("coverage waivers")

    def __str__(self) -> str:
        return f"{self.channel_id}: {self.note[:60]}"
