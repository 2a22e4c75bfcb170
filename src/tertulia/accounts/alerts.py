"""Telling an organization's owners that someone's sign-in protection got weaker or was used in an
unusual way: a second factor removed, recovery codes regenerated or used.

In the app (a "Security alert" notification) and by e-mail (tertulia.governance.mail: SMTP, or the
outbox when no server is configured), each owner in their own language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from tertulia.core.models import Membership, Role, User
from tertulia.inbox.models import NotificationKind
from tertulia.inbox.notifications import notify_people

logger = logging.getLogger(__name__)

# (person, organization name) -> the sentence, built inside each owner's language.
Message = Callable[[User, str], str]


def owners_to_alert(user: User) -> list[tuple[int, str, list[User]]]:
    """(organization id, name, active owners) for each organization where `user` is an active member."""
    result = []
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("organization")
    for member in memberships.order_by("organization_id"):
        owners = [
            m.user
            for m in Membership.objects.filter(
                organization_id=member.organization_id, role=Role.OWNER, is_active=True
            ).select_related("user")
        ]
        result.append((member.organization_id, member.organization.name, owners))
    return result


def _send_email(owner: User, subject: str, body: str) -> None:
    if not apps.is_installed("tertulia.governance"):
        return
    from tertulia.governance.mail import EmailNotSent, send_email

    try:
        send_email(owner.email, subject, body)
    except EmailNotSent as exc:
        logger.warning("security alert e-mail not sent: %s", exc.reason)


def alert_owners(user: User, subject: Message, message: Message) -> int:
    """Notify every owner of every organization of `user` (in the app and by e-mail). Returns how many
    notifications were made. E-mails go once the transaction commits."""
    made = 0
    audit_url = reverse("accounts:org-security")
    for organization_id, organization_name, owners in owners_to_alert(user):
        for owner in owners:
            with translation.override(owner.language or settings.LANGUAGE_CODE):
                text = message(user, organization_name)
                title = subject(user, organization_name)
            made += len(
                notify_people(organization_id, [owner], NotificationKind.SECURITY, text, url=audit_url)
            )
            transaction.on_commit(partial(_send_email, owner, title, text))
    return made
