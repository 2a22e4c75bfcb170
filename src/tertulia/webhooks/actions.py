"""Managing an organization's webhook endpoints: every change audited, the secret shown once.

The callers (the settings page, the API) check Perm.MANAGE_ORGANIZATION first. The audit trail
names the endpoint, its address hint, format and events, never the URL (a chat tool's webhook URL
is a credential) nor the secret.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core import outbound
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization
from tertulia.webhooks import delivery, events, signing
from tertulia.webhooks.models import Delivery, Endpoint, Format
from tertulia.webhooks.sealing import open_endpoint, sealed_fields

MAX_URL = 2000
MAX_ENDPOINTS = 20  # per organization


class WebhookRefused(ValueError):
    """A change that cannot be made; the message says why, for a person."""


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def check_url(url: str) -> str:
    """The URL if an endpoint may have it: https (http only where the operator's allow-list opens the
    host), and nothing the outbound policy refuses before connecting. Addresses are checked again,
    resolved, at every delivery."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise WebhookRefused(
            _("Enter the endpoint's address (at most %(count)d characters).") % {"count": MAX_URL}
        )
    policy = outbound.Policy.from_settings()
    try:
        target = outbound.check_url(url, policy)
    except outbound.OutboundRefused as refused:
        raise WebhookRefused(str(refused)) from refused
    allowed_plain = policy.allow.allows_host(target.host, target.port) or (
        target.address is not None and policy.allow.allows_address(target.address, target.port)
    )
    if target.scheme != "https" and not allowed_plain:
        raise WebhookRefused(_("Use an https:// address: events about security must not travel unencrypted."))
    return url


def url_hint(url: str) -> str:
    """What the page shows instead of the URL: the origin and the path's first characters."""
    parsed = outbound.check_url(url, outbound.Policy(any_address=True))
    origin = (
        f"{parsed.scheme}://{parsed.host}" if ":" not in parsed.host else f"{parsed.scheme}://[{parsed.host}]"
    )
    default = 443 if parsed.scheme == "https" else 80
    if parsed.port != default:
        origin += f":{parsed.port}"
    rest = url.split("://", 1)[1]
    path = rest[rest.find("/") :] if "/" in rest else "/"
    return (origin + (path if len(path) <= 8 else path[:8] + "…"))[:120]


def check_events(names: Iterable[str]) -> list[str]:
    wanted = sorted({str(name).strip() for name in names if str(name).strip()})
    if not wanted:
        raise WebhookRefused(_("Choose at least one event to send."))
    offered = {event.name for event in events.subscribable()}
    unknown = [name for name in wanted if name not in offered]
    if unknown:
        raise WebhookRefused(
            _("There is no event called %(names)s.") % {"names": ", ".join(name[:64] for name in unknown)}
        )
    return wanted


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise WebhookRefused(_("Give the endpoint a name of 1 to 100 characters."))
    if "\x00" in name:
        raise WebhookRefused(_("The name must not contain NUL characters."))
    return name


def _check_format(value: str) -> str:
    if value not in Format.values:
        raise WebhookRefused(_("Choose one of the formats offered."))
    return value


def _check_language(value: str) -> str:
    if value not in languages():
        raise WebhookRefused(_("Choose one of the languages offered."))
    return value


def _snapshot(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "address": endpoint.url_hint,
        "format": endpoint.format,
        "event_types": list(endpoint.event_types),
        "language": endpoint.language,
        "is_active": endpoint.is_active,
    }


@transaction.atomic
def create_endpoint(
    actor: Actor,
    organization: Organization,
    *,
    name: str,
    url: str,
    format: str = Format.GENERIC,
    event_types: Iterable[str] = (),
    language: str = "en",
) -> tuple[Endpoint, str]:
    """The new endpoint and its signing secret in clear, which is never shown again."""
    name = _check_name(name)
    url = check_url(url)
    chosen = check_events(event_types)
    if Endpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS:
        raise WebhookRefused(
            _("An organization can have at most %(count)d webhook endpoints.") % {"count": MAX_ENDPOINTS}
        )
    secret = signing.new_secret()
    uid = uuid.uuid4()
    endpoint = Endpoint.objects.create(
        organization=organization,
        uid=uid,
        name=name,
        url_hint=url_hint(url),
        format=_check_format(format),
        event_types=chosen,
        language=_check_language(language),
        secret_hint=signing.secret_hint(secret),
        created_by=actor.user,
        **sealed_fields(uid, url, secret),
    )
    record(
        actor,
        organization,
        "webhook.create",
        endpoint,
        {k: [None, v] for k, v in _snapshot(endpoint).items()},
    )
    return endpoint, secret


@transaction.atomic
def update_endpoint(
    actor: Actor,
    endpoint: Endpoint,
    *,
    name: str | None = None,
    url: str | None = None,
    format: str | None = None,
    event_types: Iterable[str] | None = None,
    language: str | None = None,
    is_active: bool | None = None,
) -> Endpoint:
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _snapshot(endpoint)
    if name is not None:
        endpoint.name = _check_name(name)
    if format is not None:
        endpoint.format = _check_format(format)
    if event_types is not None:
        endpoint.event_types = check_events(event_types)
    if language is not None:
        endpoint.language = _check_language(language)
    if is_active is not None:
        endpoint.is_active = bool(is_active)
    if url is not None and url.strip():
        clean = check_url(url)
        opened = open_endpoint(endpoint)
        if clean != opened.url:
            for field, value in sealed_fields(endpoint.uid, clean, opened.secret).items():
                setattr(endpoint, field, value)
            endpoint.url_hint = url_hint(clean)
            before["address"] = before["address"] + " "  # a new URL with the same hint is still a change
    after = _snapshot(endpoint)
    changes = {
        key: [before[key].strip() if key == "address" else before[key], after[key]]
        for key in after
        if before[key] != after[key]
    }
    if changes:
        endpoint.save()
        record(actor, endpoint.organization, "webhook.update", endpoint, changes)
    return endpoint


@transaction.atomic
def rotate_secret(actor: Actor, endpoint: Endpoint) -> str:
    """A new signing secret, in clear this once; the old one stops signing at once."""
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    opened = open_endpoint(endpoint)
    secret = signing.new_secret()
    for field, value in sealed_fields(endpoint.uid, opened.url, secret).items():
        setattr(endpoint, field, value)
    endpoint.secret_hint = signing.secret_hint(secret)
    endpoint.save()
    record(actor, endpoint.organization, "webhook.rotate_secret", endpoint, {"secret": ["…", "…"]})
    return secret


@transaction.atomic
def delete_endpoint(actor: Actor, endpoint: Endpoint) -> None:
    record(
        actor,
        endpoint.organization,
        "webhook.delete",
        endpoint,
        {k: [v, None] for k, v in _snapshot(endpoint).items()},
    )
    endpoint.delete()


@transaction.atomic
def send_test(actor: Actor, endpoint: Endpoint) -> Delivery:
    """Queue a test event for the endpoint (sent by the task queue after this commits)."""
    data = {
        "summary": _("Test event from Tertulia, sent by %(who)s.") % {"who": actor.label},
        "endpoint": {"id": endpoint.pk, "name": endpoint.name},
    }
    queued = delivery.queue_test(endpoint, data)
    record(actor, endpoint.organization, "webhook.test", endpoint, {"event": [None, queued.event_id]})
    return queued
