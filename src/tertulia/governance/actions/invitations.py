"""Inviting people by e-mail, and accepting an invitation (docs/governance.md#invitations).

An owner or administrator (`Perm.MANAGE_MEMBERS`) invites an address with a role, optionally limited
to some brands, and with channels to operate. The person receives a link that works once, for
`INVITATION_DAYS`; only a digest of its secret is stored. Accepting it:

- without an account: they choose their name and password (or, when the organization signs in
  through its identity provider, they sign in there first: `tertulia.governance.sso`);
- with an account: they sign in as the invited address and join.

Both end in `_join`: the membership (reactivated if they had one), its brands and channel grants,
each audited as usual, plus `invitation.accept`. Inviting, resending and revoking are audited too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.actions.grants import GrantRefused, set_brand_access
from tertulia.core.actions.organizations import add_member
from tertulia.core.models import Brand, Channel, Membership, Organization, Role, User
from tertulia.core.permissions import FULL_ACCESS_ROLES, ROLE_PERMISSIONS, Perm, has_perm
from tertulia.governance.actions.access import grant_channels
from tertulia.governance.mail import EmailNotSent, one_line, send_email
from tertulia.governance.models import Invitation, InvitationState
from tertulia.governance.sso import sso_sign_in_url

INVITATION_DAYS = 7
MAX_TOKEN_LENGTH = 100  # a secret is 43 characters; anything much longer is not one of ours
MAX_NAME = 150


class InvitationRefused(ValueError):
    """The invitation cannot be made, sent or accepted as asked; the message says why, in the
    person's language."""


class InvitationInvalid(Exception):
    """The link is not a usable invitation: `state` is an `InvitationState` or "unknown"."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


@dataclass(frozen=True)
class Delivery:
    """What happened to an invitation e-mail: `error` is "" when it was handed to the mail server."""

    invitation: Invitation
    error: str = ""

    @property
    def sent(self) -> bool:
        return not self.error


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _new_secret() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, digest_of(token)


def accept_path(token: str) -> str:
    return reverse("web:invitation", args=[token])


def normalize_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


# --- inviting ------------------------------------------------------------------------------------


def _require_manager(actor: Actor, organization: Organization, role: str) -> None:
    if actor.user is None:  # the command line and the system are trusted
        return
    if not has_perm(actor.user, organization, Perm.MANAGE_MEMBERS):
        raise InvitationRefused(_("You may not invite people to this organization."))
    if role == Role.OWNER:
        acting = Membership.objects.filter(organization=organization, user=actor.user, is_active=True).first()
        if acting is None or acting.role != Role.OWNER:
            raise InvitationRefused(_("Only an owner can grant or take away the owner role."))


def _clean(
    organization: Organization,
    email: str,
    role: str,
    all_brands: bool,
    brands: Sequence[Brand],
    channels: Sequence[Channel],
) -> tuple[str, bool, list[Brand], list[Channel]]:
    email = normalize_email(email)
    if len(email) > 254:
        raise InvitationRefused(_("Enter a valid e-mail address."))
    try:
        validate_email(email)
    except ValidationError:
        raise InvitationRefused(_("Enter a valid e-mail address.")) from None
    if role not in Role.values:
        raise InvitationRefused(_("Choose a role from the list."))
    if any(b.organization_id != organization.pk for b in brands) or any(
        c.organization_id != organization.pk for c in channels
    ):
        raise InvitationRefused(_("Choose brands and channels of this organization."))
    if role in FULL_ACCESS_ROLES:
        all_brands, brands = True, []  # owners and administrators always have every brand
    if not all_brands and not brands:
        raise InvitationRefused(_("Choose at least one brand, or give access to all brands."))
    if channels and Perm.OPERATE_CHANNELS not in ROLE_PERMISSIONS[role]:
        raise InvitationRefused(
            _("A person with the role “%(role)s” does not operate channels: leave the channels empty.")
            % {"role": Role(role).label}
        )
    if not all_brands:
        allowed = {b.pk for b in brands}
        outside = [c for c in channels if c.brand_id not in allowed]
        if outside:
            raise InvitationRefused(
                _("@%(handle)s belongs to a brand they would not work in: add the brand or leave it out.")
                % {"handle": outside[0].handle}
            )
    return email, all_brands, list(brands), list(channels)


def invite(
    actor: Actor,
    organization: Organization,
    email: str,
    role: str,
    *,
    site_url: str,
    all_brands: bool = True,
    brands: Sequence[Brand] = (),
    channels: Sequence[Channel] = (),
    language: str = "",
) -> Delivery:
    """Invite `email` to join `organization` and e-mail them the link (from `site_url`, e.g.
    "https://social.example.com"). The invitation stands even if the e-mail fails: resend it."""
    _require_manager(actor, organization, role)
    email, all_brands, brands, channels = _clean(organization, email, role, all_brands, brands, channels)
    with transaction.atomic():
        invitation, token = _create(actor, organization, email, role, all_brands, brands, channels, language)
    return _deliver(invitation, token, site_url)


def _create(
    actor: Actor,
    organization: Organization,
    email: str,
    role: str,
    all_brands: bool,
    brands: list[Brand],
    channels: list[Channel],
    language: str,
) -> tuple[Invitation, str]:
    if Membership.objects.filter(organization=organization, user__email=email, is_active=True).exists():
        raise InvitationRefused(_("This person is already a member of the organization."))
    now = timezone.now()
    for earlier in Invitation.objects.select_for_update().filter(
        organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ):
        if earlier.state_at(now) == InvitationState.PENDING:
            raise InvitationRefused(
                _("%(email)s already has a pending invitation: send it again from the list instead.")
                % {"email": email}
            )
        close(Actor.system("invitation replaced"), earlier)  # expired: a new one replaces it
    token, digest = _new_secret()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                organization=organization,
                email=email,
                role=role,
                all_brands=all_brands,
                language=(language or translation.get_language() or settings.LANGUAGE_CODE)[:8],
                token_digest=digest,
                invited_by=actor.user,
                expires_at=now + timedelta(days=INVITATION_DAYS),
            )
    except IntegrityError:  # the same address invited at the same moment by someone else
        raise InvitationRefused(
            _("%(email)s already has a pending invitation: send it again from the list instead.")
            % {"email": email}
        ) from None
    invitation.brands.set(brands)
    invitation.channels.set(channels)
    record(
        actor,
        organization,
        "invitation.create",
        invitation,
        {
            "email": [None, email],
            "role": [None, role],
            "all_brands": [None, all_brands],
            "brands": [None, sorted(b.name for b in brands)],
            "channels": [None, sorted(f"{c.network}:{c.handle}" for c in channels)],
            "expires_at": [None, invitation.expires_at],
        },
    )
    return invitation, token


def resend(actor: Actor, invitation: Invitation, *, site_url: str) -> Delivery:
    """A new link (the old one stops working) for another `INVITATION_DAYS`, e-mailed again."""
    _require_manager(actor, invitation.organization, invitation.role)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise InvitationRefused(_("This invitation was already accepted or revoked."))
        token, invitation.token_digest = _new_secret()
        old_expiry = invitation.expires_at
        invitation.expires_at = timezone.now() + timedelta(days=INVITATION_DAYS)
        invitation.save(update_fields=["token_digest", "expires_at"])
        record(
            actor,
            invitation.organization,
            "invitation.resend",
            invitation,
            {"expires_at": [old_expiry, invitation.expires_at]},
        )
    return _deliver(invitation, token, site_url)


def revoke(actor: Actor, invitation: Invitation) -> Invitation:
    """The link stops working. Revoking twice changes nothing; an accepted invitation cannot be."""
    _require_manager(actor, invitation.organization, invitation.role)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationRefused(_("This invitation was already accepted: offboard the person instead."))
        if invitation.revoked_at is None:
            close(actor, invitation)
    return invitation


def close(actor: Actor, invitation: Invitation) -> None:
    """Revoke an open invitation, without asking whether `actor` may (offboarding already did)."""
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor.user
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    record(
        actor,
        invitation.organization,
        "invitation.revoke",
        invitation,
        {"revoked_at": [None, invitation.revoked_at]},
    )


# --- the e-mail ----------------------------------------------------------------------------------


def _deliver(invitation: Invitation, token: str, site_url: str) -> Delivery:
    link = site_url.rstrip("/") + accept_path(token)
    organization = one_line(invitation.organization.name, 120)
    inviter = one_line(str(invitation.invited_by), 150) if invitation.invited_by else organization
    with translation.override(invitation.language or settings.LANGUAGE_CODE):
        subject = _("Join %(organization)s on Tertulia") % {"organization": organization}
        values = {
            "inviter": inviter,
            "organization": organization,
            "role": str(Role(invitation.role).label),
            "date": formats.date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT"),
            "link": link,
        }
        body = "\n\n".join(
            [
                _("%(inviter)s invited you to work in %(organization)s on Tertulia, as %(role)s.") % values,
                _("To accept, open this link (it works once, until %(date)s):") % values + f"\n{link}",
                _(
                    "If you did not expect this invitation, ignore this e-mail: "
                    "nothing happens unless the link is opened and accepted."
                ),
            ]
        )
    now = timezone.now()
    try:
        send_email(invitation.email, subject, body + "\n")
    except EmailNotSent as exc:
        Invitation.objects.filter(pk=invitation.pk).update(send_error=exc.reason[:255])
        invitation.send_error = exc.reason[:255]
        return Delivery(invitation, error=exc.reason)
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_count=invitation.sent_count + 1, last_sent_at=now, send_error=""
    )
    invitation.sent_count += 1
    invitation.last_sent_at, invitation.send_error = now, ""
    return Delivery(invitation)


# --- accepting -----------------------------------------------------------------------------------


def find(token: str, *, lock: bool = False) -> Invitation:
    """The invitation a link stands for, if it can still be accepted; otherwise `InvitationInvalid`."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationInvalid("unknown")
    found = Invitation.objects.select_related("organization", "invited_by")
    if lock:
        found = found.select_for_update(of=("self",))
    invitation = found.filter(token_digest=digest_of(token)).first()
    if invitation is None:
        raise InvitationInvalid("unknown")
    state = invitation.state
    if state != InvitationState.PENDING:
        raise InvitationInvalid(state)
    return invitation


def account_for(invitation: Invitation) -> User | None:
    return User.objects.filter(email__iexact=invitation.email).first()


def sso_url(invitation: Invitation, token: str) -> str | None:
    """Where to sign in first when the organization uses single sign-on (None: it does not)."""
    return sso_sign_in_url(invitation.organization, accept_path(token))


def accept_new_account(actor: Actor, token: str, *, display_name: str, password: str) -> User:
    """Create the invited person's account with the password they chose, and join.

    Raises `InvitationInvalid`, `InvitationRefused` (an account exists already; single sign-on), or
    `ValidationError` for a password the validators refuse (nothing is written then).
    """
    with transaction.atomic():
        invitation = find(token, lock=True)
        if sso_url(invitation, token) is not None:
            raise InvitationRefused(_("This organization signs people in through its identity provider."))
        if account_for(invitation) is not None:
            raise InvitationRefused(_("There is already an account for this address: sign in to accept."))
        display_name = display_name.replace("\x00", "").strip()[:MAX_NAME]
        user = User(email=invitation.email, display_name=display_name)
        validate_password(password, user)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        acting = dataclasses.replace(actor, user=user, label_override="")
        record(acting, invitation.organization, "person.create", user, {"email": [None, user.email]})
        _mark_address_verified(user)
        _join(acting, invitation, user)
    return user


def accept_as(actor: Actor, token: str, user: User) -> Membership:
    """The signed-in `user` (who must be the invited address) joins the organization."""
    with transaction.atomic():
        invitation = find(token, lock=True)
        if normalize_email(user.email) != invitation.email:
            raise InvitationRefused(
                _("This invitation is for %(email)s: sign in with that address to accept it.")
                % {"email": invitation.email}
            )
        if not user.is_active:
            raise InvitationRefused(_("This account is disabled."))
        if Membership.objects.filter(
            organization=invitation.organization, user=user, is_active=True
        ).exists():
            raise InvitationRefused(_("You are already a member of this organization."))
        _mark_address_verified(user)
        return _join(actor, invitation, user)


def _join(actor: Actor, invitation: Invitation, user: User) -> Membership:
    organization = invitation.organization
    member = add_member(actor, organization, user, invitation.role)
    try:
        member = set_brand_access(
            actor,
            member,
            all_brands=invitation.all_brands or member.role in FULL_ACCESS_ROLES,
            brands=list(invitation.brands.all()),
        )
    except GrantRefused as exc:  # its brands were deleted since: better no access than every brand
        raise InvitationRefused(str(exc)) from None
    grant_channels(actor, member, list(invitation.channels.all()))
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        actor, organization, "invitation.accept", invitation, {"accepted_at": [None, invitation.accepted_at]}
    )
    return member


def _mark_address_verified(user: User) -> None:
    """Opening the link proved the address is theirs: tell allauth, when it is installed."""
    if not apps.is_installed("allauth.account"):
        return
    from allauth.account.models import EmailAddress

    address, _created = EmailAddress.objects.get_or_create(
        user=user, email__iexact=user.email, defaults={"email": user.email, "primary": True, "verified": True}
    )
    if not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])


# --- who is waiting --------------------------------------------------------------------------------


def open_invitations(organization: Organization) -> list[Invitation]:
    """Invitations of the organization not yet accepted or revoked (expired ones too: resend them)."""
    return list(
        Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .prefetch_related("brands", "channels")
        .order_by("-created_at", "-id")
    )
