"""Sign-in secrets sealed by the vault (SSO client secrets, second-factor seeds), re-wrapped by
`tertulia vault rotate` with the current master key like channel credentials."""

from __future__ import annotations

import base64
import json

from django.db import transaction

from tertulia.accounts.adapters import MFAAdapter
from tertulia.accounts.models import SsoConnection
from tertulia.accounts.sso import aad_of, sealed_of
from tertulia.vault.crypto import Sealed, rewrap
from tertulia.vault.keys import Keyring

# allauth.mfa Authenticator type -> the field of its data that MFAAdapter.encrypt sealed.
SEALED_FIELDS = {"totp": "secret", "recovery_codes": "seed"}


def _rewrap_mfa_value(value: str, keyring: Keyring) -> str | None:
    """The value with its data key wrapped by the current master key; None when nothing to do."""
    if not value.startswith(MFAAdapter.PREFIX):
        return None
    body = json.loads(value[len(MFAAdapter.PREFIX) :])
    if body["k"] == keyring.current_id:
        return None
    sealed = Sealed(
        str(body["k"]), base64.b64decode(body["w"]), base64.b64decode(body["n"]), base64.b64decode(body["c"])
    )
    fresh = rewrap(sealed, MFAAdapter.AAD, keyring)
    body["k"] = fresh.key_id
    body["w"] = base64.b64encode(fresh.wrapped_key).decode()
    return MFAAdapter.PREFIX + json.dumps(body, separators=(",", ":"))


def rewrap_all(keyring: Keyring) -> int:
    """Re-wrap every sign-in secret not wrapped by the current key; returns how many changed."""
    from allauth.mfa.models import Authenticator

    changed = 0
    stale = SsoConnection.objects.exclude(key_id=keyring.current_id).values_list("pk", flat=True)
    for pk in list(stale):
        with transaction.atomic():
            connection = SsoConnection.objects.select_for_update().get(pk=pk)
            if connection.key_id == keyring.current_id:
                continue
            fresh = rewrap(sealed_of(connection), aad_of(connection), keyring)
            SsoConnection.objects.filter(pk=pk).update(key_id=fresh.key_id, wrapped_key=fresh.wrapped_key)
            changed += 1
    for pk in list(Authenticator.objects.filter(type__in=SEALED_FIELDS).values_list("pk", flat=True)):
        with transaction.atomic():
            authenticator = Authenticator.objects.select_for_update().get(pk=pk)
            field = SEALED_FIELDS[authenticator.type]
            value = authenticator.data.get(field)
            fresh_value = _rewrap_mfa_value(value, keyring) if isinstance(value, str) else None
            if fresh_value is None:
                continue
            data = dict(authenticator.data)
            data[field] = fresh_value
            Authenticator.objects.filter(pk=pk).update(data=data)
            changed += 1
    return changed
