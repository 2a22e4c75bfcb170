"""An endpoint's URL and signing secret, sealed together by the vault's envelope encryption.

The associated data binds the ciphertext to the endpoint's uid, so sealed fields copied onto
another endpoint do not open. `tertulia vault rotate` re-wraps them with the current master key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from tertulia.vault.crypto import Sealed, rewrap, seal, unseal
from tertulia.vault.keys import Keyring, load_keyring
from tertulia.webhooks.models import Endpoint


@dataclass(frozen=True)
class Opened:
    url: str
    secret: str


def _aad(uid: object) -> bytes:
    return f"tertulia:webhook:{uid}".encode()


def sealed_fields(uid: object, url: str, secret: str) -> dict[str, Any]:
    sealed = seal(json.dumps({"url": url, "secret": secret}).encode(), _aad(uid), load_keyring())
    return {
        "key_id": sealed.key_id,
        "wrapped_key": sealed.wrapped_key,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
    }


def _sealed(endpoint: Endpoint) -> Sealed:
    return Sealed(
        endpoint.key_id, bytes(endpoint.wrapped_key), bytes(endpoint.nonce), bytes(endpoint.ciphertext)
    )


def open_endpoint(endpoint: Endpoint) -> Opened:
    data = json.loads(unseal(_sealed(endpoint), _aad(endpoint.uid), load_keyring()))
    return Opened(url=str(data["url"]), secret=str(data["secret"]))


def rewrap_all(keyring: Keyring | None = None) -> int:
    """Re-wrap every endpoint's data key with the current master key; how many changed."""
    keyring = keyring or load_keyring()
    changed = 0
    for pk in Endpoint.objects.exclude(key_id=keyring.current_id).values_list("pk", flat=True).iterator():
        with transaction.atomic():
            endpoint = Endpoint.objects.select_for_update().get(pk=pk)
            if endpoint.key_id == keyring.current_id:
                continue
            fresh = rewrap(_sealed(endpoint), _aad(endpoint.uid), keyring)
            Endpoint.objects.filter(pk=pk).update(key_id=fresh.key_id, wrapped_key=fresh.wrapped_key)
            changed += 1
    return changed
