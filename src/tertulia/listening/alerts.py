"""Alerts on a query: after new matches arrive, compare the last window with each alert's threshold.

An alert fires at most once per window, so a surge that lasts an afternoon is one notification per
hour (with a one-hour window), not one per batch. Surge detection that learns a baseline is the
crisis module's (issue 8); these are the fixed thresholds a community manager sets by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.inbox.models import NotificationKind
from tertulia.inbox.notifications import notify_people
from tertulia.listening.models import AlertEvent, AlertKind, QueryAlert, QueryMatch


def check_alerts(query_ids: Iterable[int], now: datetime | None = None) -> list[AlertEvent]:
    now = now or timezone.now()
    fired: list[AlertEvent] = []
    alerts = QueryAlert.objects.filter(query_id__in=list(query_ids), is_active=True, query__is_active=True)
    for alert in alerts.select_related("query"):
        event = _check(alert, now)
        if event is not None:
            fired.append(event)
    return fired


def measure(alert: QueryAlert, now: datetime) -> tuple[int, int]:
    """(mentions, negative ones) of the alert's query published in its window."""
    since = now - timedelta(minutes=alert.window_minutes)
    counts = QueryMatch.objects.filter(
        query_id=alert.query_id, published_at__gt=since, published_at__lte=now
    ).aggregate(total=Count("id"), negative=Count("id", filter=Q(sentiment="negative")))
    return counts["total"], counts["negative"]


def _check(alert: QueryAlert, now: datetime) -> AlertEvent | None:
    window = timedelta(minutes=alert.window_minutes)
    if alert.last_fired_at is not None and now - alert.last_fired_at < window:
        return None
    total, negative = measure(alert, now)
    if alert.kind == AlertKind.VOLUME:
        value = float(total)
        crossed = total > alert.threshold
    else:
        value = 100.0 * negative / total if total else 0.0
        crossed = total >= alert.minimum_mentions and value > alert.threshold
    if not crossed:
        return None
    with transaction.atomic():
        # Two workers checking the same alert: only the one that moves last_fired_at notifies.
        moved = QueryAlert.objects.filter(pk=alert.pk, last_fired_at=alert.last_fired_at).update(
            last_fired_at=now
        )
        if not moved:
            return None
        event = AlertEvent.objects.create(alert=alert, mentions=total, negative=negative, value=value)
        query = alert.query
        if alert.kind == AlertKind.VOLUME:
            text = _(
                "%(query)s: %(count)d mentions in the last %(minutes)d minutes (alert above %(threshold)d)."
            ) % {
                "query": query.name,
                "count": total,
                "minutes": alert.window_minutes,
                "threshold": alert.threshold,
            }
        else:
            text = _(
                "%(query)s: %(share).0f%% of %(count)d mentions in the last %(minutes)d minutes are negative "
                "(alert above %(threshold)d%%)."
            ) % {
                "query": query.name,
                "share": value,
                "count": total,
                "minutes": alert.window_minutes,
                "threshold": alert.threshold,
            }
        notify_people(
            query.organization_id,
            # Someone who has left the organization since being chosen is not told.
            alert.recipients.filter(
                memberships__organization_id=query.organization_id, memberships__is_active=True
            ).distinct(),
            NotificationKind.LISTENING_ALERT,
            text,
            url=f"/listen/queries/{query.pk}/",
        )
    return event
