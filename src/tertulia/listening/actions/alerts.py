"""Alerts on a query: thresholds a person sets, and who is told."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import User
from tertulia.core.permissions import brand_members
from tertulia.listening.actions.common import ListeningRefused, require_manage
from tertulia.listening.models import AlertKind, ListeningQuery, QueryAlert

MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_THRESHOLD = 10_000_000


def _validate(kind: str, threshold: int, window_minutes: int, minimum_mentions: int) -> None:
    if kind not in AlertKind.values:
        raise ListeningRefused(_("Choose a kind of alert."), "kind")
    if not 5 <= window_minutes <= MAX_WINDOW_MINUTES:
        raise ListeningRefused(_("The window is from 5 minutes to 7 days."), "window_minutes")
    if kind == AlertKind.NEGATIVE_SHARE and not 1 <= threshold <= 99:
        raise ListeningRefused(_("A negative share is a percentage from 1 to 99."), "threshold")
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise ListeningRefused(_("The threshold is a whole number, 0 or more."), "threshold")
    if not 1 <= minimum_mentions <= MAX_THRESHOLD:
        raise ListeningRefused(_("The minimum number of mentions is 1 or more."), "minimum_mentions")


def _members(query: ListeningQuery, recipients: Sequence[User]) -> list[User]:
    # People who work in the query's brand (a member limited to other brands is not told of it).
    members = set(
        brand_members(query.brand)
        .filter(user_id__in=[user.pk for user in recipients], user__is_active=True)
        .values_list("user_id", flat=True)
    )
    if len(members) != len({user.pk for user in recipients}):
        raise ListeningRefused(_("Alerts can only go to people in this organization."), "recipients")
    if not members:
        raise ListeningRefused(_("Choose who is told."), "recipients")
    return [user for user in recipients if user.pk in members]


@transaction.atomic
def create_alert(
    actor: Actor,
    query: ListeningQuery,
    *,
    kind: str,
    threshold: int,
    recipients: Sequence[User],
    window_minutes: int = 60,
    minimum_mentions: int = 10,
) -> QueryAlert:
    require_manage(actor, query.organization, query.brand)
    _validate(kind, threshold, window_minutes, minimum_mentions)
    people = _members(query, recipients)
    alert = QueryAlert.objects.create(
        query=query,
        kind=kind,
        threshold=threshold,
        window_minutes=window_minutes,
        minimum_mentions=minimum_mentions,
    )
    alert.recipients.set(people)
    record(
        actor,
        query.organization,
        "listening.alert_created",
        alert,
        {
            "kind": kind,
            "threshold": threshold,
            "window_minutes": window_minutes,
            "recipients": [p.pk for p in people],
        },
    )
    return alert


@transaction.atomic
def delete_alert(actor: Actor, alert: QueryAlert) -> None:
    organization = alert.query.organization
    require_manage(actor, organization, alert.query.brand)
    record(
        actor,
        organization,
        "listening.alert_deleted",
        alert,
        {"kind": alert.kind, "threshold": alert.threshold},
    )
    alert.delete()
