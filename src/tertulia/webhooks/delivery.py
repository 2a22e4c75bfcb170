"""Queueing events and delivering them: at least once, with retries, never inside a web request.

`emit` stores one Delivery per subscribed endpoint in the caller's transaction and, once it
commits, hands each to the task queue (`tertulia.webhooks.tasks.deliver_webhook`). `deliver`
claims a due delivery in the database (so two workers never send the same one at once), sends it
through the SSRF-safe client (`tertulia.core.outbound`: no redirects followed, the answer read up
to 16 KB, 10 seconds per step and 15 in all), and records what happened:

- a 2xx answer: delivered;
- a 5xx, 408 or 429 answer, no answer, or a timeout: tried again after `RETRY_DELAYS` (30 s, 2 min,
  10 min, 30 min, 1 h, 3 h, 6 h; a longer Retry-After is honoured up to 6 h), and failed for good
  after `MAX_ATTEMPTS` attempts (8, about ten hours);
- any other answer (a 3xx, a 4xx) or an address the outbound policy refuses: failed at once, as
  sending the same bytes again would get the same answer.

A ticker job (`due`) hands due retries to the queue and takes back deliveries a dead worker left
half-sent (their lease ran out): the database, not the queue, is the truth. Another (`prune`)
forgets finished deliveries after `KEEP_DAYS` days.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core import outbound
from tertulia.core.models import Organization
from tertulia.webhooks import events, formats, signing
from tertulia.webhooks.models import Delivery, DeliveryState, Endpoint, Format
from tertulia.webhooks.sealing import open_endpoint

logger = logging.getLogger(__name__)

RETRY_DELAYS = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)  # seconds after attempt 1, 2, ...
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
MAX_RETRY_AFTER = 6 * 3600
LEASE = timedelta(seconds=120)  # longer than one attempt can take
MAX_PAYLOAD_BYTES = 64 * 1024
RESPONSE_BYTES = 16 * 1024
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE = 15.0
USER_AGENT = "Tertulia-Webhooks/1 (+https://github.com/tertulia)"
RETRIED_STATUSES = frozenset({408, 429})
KEEP_DAYS = 30  # finished deliveries are kept this long, then pruned


def envelope(organization: Organization, event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The event as the generic format sends it; ValueError if `data` is not JSON or too large."""
    events.get(event_type)
    try:
        encoded = json.dumps(dict(data), cls=DjangoJSONEncoder, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"the payload of {event_type} is not JSON: {error}") from error
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"the payload of {event_type} is larger than {MAX_PAYLOAD_BYTES} bytes")
    return {
        "id": f"msg_{uuid.uuid4().hex}",
        "type": event_type,
        "created_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "organization": {"id": organization.pk, "name": organization.name},
        "data": json.loads(encoded),
    }


def _queue(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return

    def send() -> None:
        from tertulia.webhooks.tasks import deliver_webhook

        for delivery_id in delivery_ids:
            deliver_webhook(delivery_id)

    transaction.on_commit(send)


def emit(organization: Organization, event_type: str, payload: Mapping[str, Any]) -> int:
    event = envelope(organization, event_type, payload)
    now = timezone.now()
    wanted = [
        endpoint
        for endpoint in Endpoint.objects.filter(organization=organization, is_active=True)
        if event_type in (endpoint.event_types or [])
    ]
    created = Delivery.objects.bulk_create(
        [
            Delivery(
                organization=organization,
                endpoint=endpoint,
                event_id=event["id"],
                event_type=event_type,
                payload=event,
                next_attempt_at=now,
            )
            for endpoint in wanted
        ]
    )
    ids = [delivery.pk for delivery in created if delivery.pk is not None]
    if len(ids) != len(created):  # a database that does not return ids from bulk inserts
        ids = list(Delivery.objects.filter(event_id=event["id"]).values_list("pk", flat=True))
    _queue(ids)
    return len(created)


def queue_test(endpoint: Endpoint, data: Mapping[str, Any]) -> Delivery:
    """A test event for one endpoint, whatever it subscribes to (sent after the transaction commits)."""
    event = envelope(endpoint.organization, events.TEST_EVENT, data)
    delivery = Delivery.objects.create(
        organization=endpoint.organization,
        endpoint=endpoint,
        event_id=event["id"],
        event_type=events.TEST_EVENT,
        payload=event,
        next_attempt_at=timezone.now(),
    )
    _queue([delivery.pk])
    return delivery


# --- sending -------------------------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        Delivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now).update(
            state=DeliveryState.SENDING, lease_until=now + LEASE
        )
    )


def request_body(delivery: Delivery) -> bytes:
    endpoint = delivery.endpoint
    return formats.body(endpoint.format, delivery.payload, endpoint.language)


def deliver(delivery_id: int, now: datetime | None = None) -> str:
    """Send one due delivery if it can be claimed; its state afterwards."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        state = Delivery.objects.filter(pk=delivery_id).values_list("state", flat=True).first()
        return str(state or "")
    delivery = Delivery.objects.select_related("endpoint__organization").filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted meanwhile
        return ""
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event_type != events.TEST_EVENT:
        return _record(delivery, now, final=True, error=_("The endpoint was switched off."))
    opened = open_endpoint(endpoint)
    body = request_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.headers(opened.secret, delivery.event_id, body),
    }
    try:
        response = outbound.fetch(
            opened.url,
            method="POST",
            headers=headers,
            content=body,
            max_redirects=0,
            max_bytes=RESPONSE_BYTES,
            truncate=True,
            timeout=TIMEOUT,
            deadline=DEADLINE,
        )
    except outbound.OutboundRefused as refused:
        return _record(delivery, now, final=True, error=str(refused))
    except outbound.OutboundFailed as failed:
        return _record(delivery, now, final=False, error=str(failed))
    # What the endpoint answered is its text, not ours: PostgreSQL refuses NUL, the API's schema too.
    excerpt = response.body[:500].decode("utf-8", "replace").replace("\x00", "")
    if response.ok:
        return _record(delivery, now, status=response.status, excerpt=excerpt, delivered=True)
    retry = response.status >= 500 or response.status in RETRIED_STATUSES
    wait = httpx_retry_after(response.headers.get("retry-after", "")) if response.status == 429 else 0
    if 300 <= response.status < 400:
        error = _(
            "The endpoint answered with a redirect (HTTP %(status)d); webhooks do not follow redirects."
        )
    else:
        error = _("The endpoint answered HTTP %(status)d.")
    return _record(
        delivery,
        now,
        status=response.status,
        excerpt=excerpt,
        final=not retry,
        error=error % {"status": response.status},
        wait=wait,
    )


def httpx_retry_after(value: str) -> int:
    value = value.strip()
    return min(int(value), MAX_RETRY_AFTER) if value.isdigit() else 0


def _record(
    delivery: Delivery,
    now: datetime,
    *,
    status: int | None = None,
    excerpt: str = "",
    delivered: bool = False,
    final: bool = False,
    error: str = "",
    wait: int = 0,
) -> str:
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "response_status": status,
        "response_excerpt": excerpt[:500],
        "error": error[:500],
        "lease_until": None,
    }
    if delivered:
        fields.update(state=DeliveryState.SUCCEEDED, delivered_at=now, next_attempt_at=None)
    elif final or attempts >= MAX_ATTEMPTS:
        fields.update(state=DeliveryState.FAILED, next_attempt_at=None)
    else:
        delay = max(RETRY_DELAYS[attempts - 1], wait)
        fields.update(state=DeliveryState.PENDING, next_attempt_at=now + timedelta(seconds=delay))
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING).update(**fields)
    if delivered:
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(consecutive_failures=0)
    elif fields["state"] == DeliveryState.FAILED:
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
    if not delivered:
        # No URL, no body: the endpoint's id and the event are enough to find it.
        logger.warning(
            "webhook delivery %s to endpoint %s (%s): %s",
            delivery.pk,
            delivery.endpoint_id,
            fields["state"],
            error[:200],
        )
    return str(fields["state"])


def due(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Deliveries to hand to the queue now; half-sent ones whose lease ran out are waiting again."""
    now = now or timezone.now()
    Delivery.objects.filter(state=DeliveryState.SENDING, lease_until__lt=now).update(
        state=DeliveryState.PENDING, lease_until=None
    )
    return list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def prune(now: datetime | None = None) -> int:
    """Forget finished deliveries older than `KEEP_DAYS` days; how many were removed."""
    now = now or timezone.now()
    finished = Delivery.objects.filter(
        state__in=(DeliveryState.SUCCEEDED, DeliveryState.FAILED),
        created_at__lt=now - timedelta(days=KEEP_DAYS),
    )
    removed, _by_model = finished.delete()
    return removed


def is_chat(endpoint: Endpoint) -> bool:
    return endpoint.format in (Format.SLACK, Format.MATTERMOST)
