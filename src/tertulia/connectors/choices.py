"""When one sign-in can connect several accounts, keep them sealed until the person picks one."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tertulia.connectors.base import AccountInfo, ConnectedAccount
from tertulia.connectors.models import PendingChoice
from tertulia.core.models import Brand, User
from tertulia.vault.crypto import Sealed, seal, unseal
from tertulia.vault.keys import load_keyring

CHOICE_TTL = timedelta(minutes=10)


def _aad(choice_id: uuid.UUID) -> bytes:
    return f"tertulia:choice:{choice_id}".encode()


def _as_dict(account: ConnectedAccount) -> dict[str, object]:
    return {
        "external_id": account.info.external_id,
        "handle": account.info.handle,
        "display_name": account.info.display_name,
        "credentials": dict(account.credentials),
        "expires_at": account.expires_at.isoformat() if account.expires_at else None,
    }


def _from_dict(data: dict[str, object]) -> ConnectedAccount:
    expires = data.get("expires_at")
    return ConnectedAccount(
        info=AccountInfo(str(data["external_id"]), str(data["handle"]), str(data["display_name"])),
        credentials={str(k): str(v) for k, v in dict(data["credentials"]).items()},  # type: ignore[call-overload]  # JSON we sealed ourselves
        expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
    )


def park(user: User, brand: Brand, network: str, base_url: str, account: ConnectedAccount) -> PendingChoice:
    candidates = [account, *account.alternatives]
    choice_id = uuid.uuid4()
    sealed = seal(json.dumps([_as_dict(c) for c in candidates]).encode(), _aad(choice_id), load_keyring())
    PendingChoice.objects.filter(created_at__lt=timezone.now() - CHOICE_TTL).delete()
    return PendingChoice.objects.create(
        id=choice_id,
        network=network,
        base_url=base_url,
        organization=brand.organization,
        brand=brand,
        user=user,
        options=[{"handle": c.info.handle, "display_name": c.info.display_name} for c in candidates],
        key_id=sealed.key_id,
        wrapped_key=sealed.wrapped_key,
        nonce=sealed.nonce,
        ciphertext=sealed.ciphertext,
    )


def open_choice(choice_id: uuid.UUID, user: User) -> PendingChoice | None:
    """The person's own, unexpired choice; None otherwise (someone else's looks like none at all)."""
    choice = PendingChoice.objects.filter(pk=choice_id, user=user).first()
    if choice is None or timezone.now() - choice.created_at > CHOICE_TTL:
        return None
    return choice


@transaction.atomic
def take(choice_id: uuid.UUID, user: User, index: int) -> tuple[PendingChoice, ConnectedAccount] | None:
    """The picked account, and the choice used up; None if it is gone, expired, not theirs or out of range."""
    choice = PendingChoice.objects.select_for_update().filter(pk=choice_id, user=user).first()
    if choice is None:
        return None
    aad = _aad(choice.pk)  # before delete(), which clears the primary key
    choice.delete()  # one use, whatever happens next
    if timezone.now() - choice.created_at > CHOICE_TTL or not 0 <= index < len(choice.options):
        return None
    sealed = Sealed(choice.key_id, bytes(choice.wrapped_key), bytes(choice.nonce), bytes(choice.ciphertext))
    candidates = json.loads(unseal(sealed, aad, load_keyring()))
    return choice, _from_dict(candidates[index])
