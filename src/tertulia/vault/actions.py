"""Storing, using and rotating channel credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from tertulia.connectors.base import OAuthClient
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.vault.crypto import Sealed, rewrap, seal, unseal
from tertulia.vault.keys import load_keyring
from tertulia.vault.models import Credential, NetworkApp
from tertulia.vault.usage import record_use

LAST_USED_RESOLUTION = timedelta(minutes=1)


def _aad(channel_id: int) -> bytes:
    return f"tertulia:channel:{channel_id}".encode()


def _sealed(credential: Credential) -> Sealed:
    return Sealed(
        credential.key_id,
        bytes(credential.wrapped_key),
        bytes(credential.nonce),
        bytes(credential.ciphertext),
    )


@transaction.atomic
def store_credentials(
    actor: Actor, channel: Channel, secrets: Mapping[str, str], expires_at: datetime | None = None
) -> Credential:
    """Seal and keep a channel's secrets, replacing any it had. The audit trail names the fields only."""
    sealed = seal(json.dumps(dict(secrets)).encode(), _aad(channel.pk), load_keyring())
    credential, created = Credential.objects.update_or_create(
        channel=channel,
        defaults={
            "organization_id": channel.organization_id,
            "key_id": sealed.key_id,
            "wrapped_key": sealed.wrapped_key,
            "nonce": sealed.nonce,
            "ciphertext": sealed.ciphertext,
            "expires_at": expires_at,
        },
    )
    record(
        actor,
        channel.organization,
        "credential.store" if created else "credential.replace",
        channel,
        {"fields": [None, sorted(secrets)], "expires_at": [None, expires_at]},
    )
    return credential


@transaction.atomic
def remove_credentials(actor: Actor, channel: Channel) -> bool:
    deleted, _ = Credential.objects.filter(channel=channel).delete()
    if deleted:
        record(actor, channel.organization, "credential.remove", channel, {"fields": ["…", None]})
    return bool(deleted)


@contextmanager
def unlocked(
    channel: Channel, purpose: str = "", actor: Actor | None = None, detail: Mapping[str, Any] | None = None
) -> Iterator[dict[str, str]]:
    """The channel's secrets in clear, for the length of one connector call; {} if it has none.

    The use is audited as `credential.use` (`purpose`: publish, reply, poll...; `actor`: the person
    it is done for, if any; see tertulia.vault.usage for what is recorded)."""
    credential = Credential.objects.filter(channel=channel).first()
    if credential is None:
        yield {}
        return
    secrets: dict[str, str] = json.loads(unseal(_sealed(credential), _aad(channel.pk), load_keyring()))
    now = timezone.now()
    if credential.last_used_at is None or now - credential.last_used_at > LAST_USED_RESOLUTION:
        Credential.objects.filter(pk=credential.pk).update(last_used_at=now)
    record_use(channel, purpose, actor, detail, now)
    try:
        yield secrets
    finally:
        secrets.clear()  # drop the clear copy as soon as the call is over


def rotate() -> int:
    """Re-wrap every data key with the current master key; returns how many changed."""
    keyring = load_keyring()
    changed = 0
    for pk in Credential.objects.exclude(key_id=keyring.current_id).values_list("pk", flat=True).iterator():
        with transaction.atomic():
            credential = Credential.objects.select_for_update().get(pk=pk)
            if credential.key_id == keyring.current_id:
                continue
            fresh = rewrap(_sealed(credential), _aad(credential.channel_id), keyring)
            Credential.objects.filter(pk=pk).update(key_id=fresh.key_id, wrapped_key=fresh.wrapped_key)
            changed += 1
    for pk in NetworkApp.objects.exclude(key_id=keyring.current_id).values_list("pk", flat=True).iterator():
        with transaction.atomic():
            app = NetworkApp.objects.select_for_update().get(pk=pk)
            sealed = Sealed(app.key_id, bytes(app.wrapped_key), bytes(app.nonce), bytes(app.ciphertext))
            fresh = rewrap(sealed, _app_aad(app.network, app.base_url), keyring)
            NetworkApp.objects.filter(pk=pk).update(key_id=fresh.key_id, wrapped_key=fresh.wrapped_key)
            changed += 1
    if apps.is_installed("tertulia.accounts"):  # SSO client secrets and second-factor seeds
        from tertulia.accounts.vault import rewrap_all

        changed += rewrap_all(keyring)
    if apps.is_installed("tertulia.webhooks"):  # webhook endpoints' URLs and signing secrets
        from tertulia.webhooks.sealing import rewrap_all as rewrap_webhooks

        changed += rewrap_webhooks(keyring)
    return changed


def _app_aad(network: str, base_url: str) -> bytes:
    return f"tertulia:app:{network}:{base_url}".encode()


def _app_fields(network: str, base_url: str, client_id: str, secrets: Mapping[str, str]) -> dict[str, Any]:
    sealed = seal(json.dumps(dict(secrets)).encode(), _app_aad(network, base_url), load_keyring())
    return {
        "client_id": client_id,
        "key_id": sealed.key_id,
        "wrapped_key": sealed.wrapped_key,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
    }


def _record_app(actor: Actor, action: str, app: NetworkApp, secrets: Mapping[str, str]) -> None:
    changes = {
        "network": [None, app.network],
        "base_url": [None, app.base_url],
        "fields": [None, sorted(secrets)],
    }
    if app.redirect_uri:
        changes["redirect_uri"] = [None, app.redirect_uri]
    record(actor, None, action, app, changes)


@transaction.atomic
def register_app(
    actor: Actor, network: str, client_id: str, secrets: Mapping[str, str], base_url: str = ""
) -> NetworkApp:
    """Keep an operator's app registration; `secrets` may hold "client_secret" and "webhook_secret"."""
    # No redirect URI: the operator registered it and knows its redirect URIs, so Tertulia
    # never replaces it with a registration of its own.
    fields = {**_app_fields(network, base_url, client_id, secrets), "redirect_uri": ""}
    app, created = NetworkApp.objects.update_or_create(network=network, base_url=base_url, defaults=fields)
    _record_app(actor, "network_app.register" if created else "network_app.update", app, secrets)
    return app


def keep_own_registration(
    actor: Actor,
    network: str,
    base_url: str,
    client: OAuthClient,
    redirect_uri: str,
    replacing: str = "",
) -> bool:
    """Keep the registration Tertulia just made for itself on a server, unless another won.

    Two people can start signing in on the same new server at once, and each registers
    (a request to the network, so it is not held inside a transaction). Which one is kept
    is decided here by the database: with `replacing` empty, the unique (network, server)
    constraint lets only the first insert in; otherwise the update only applies while the
    registration whose client id is `replacing` is still there. False: another registration
    is stored now, and this one is dropped (the network keeps an unused app, which is harmless).
    """
    secrets = {"client_secret": client.client_secret} if client.client_secret else {}
    fields = {**_app_fields(network, base_url, client.client_id, secrets), "redirect_uri": redirect_uri}
    try:
        with transaction.atomic():
            if replacing:
                # Only a registration of our own (one with a redirect URI) is ever replaced.
                stale = NetworkApp.objects.filter(network=network, base_url=base_url, client_id=replacing)
                if not stale.exclude(redirect_uri="").update(**fields, updated_at=timezone.now()):
                    return False
                app = NetworkApp.objects.get(network=network, base_url=base_url)
            else:
                app = NetworkApp.objects.create(network=network, base_url=base_url, **fields)
            _record_app(actor, "network_app.self_register", app, secrets)
    except IntegrityError:
        return False
    return True


@contextmanager
def app_client(network: str, base_url: str = "") -> Iterator[tuple[OAuthClient, dict[str, str]] | None]:
    """The app registration in clear for one call: (client, all its secrets), or None if there is none."""
    app = NetworkApp.objects.filter(network=network, base_url=base_url).first()
    if app is None:
        yield None
        return
    sealed = Sealed(app.key_id, bytes(app.wrapped_key), bytes(app.nonce), bytes(app.ciphertext))
    secrets: dict[str, str] = json.loads(unseal(sealed, _app_aad(network, base_url), load_keyring()))
    try:
        yield (
            OAuthClient(
                client_id=app.client_id, client_secret=secrets.get("client_secret", ""), base_url=base_url
            ),
            secrets,
        )
    finally:
        secrets.clear()
