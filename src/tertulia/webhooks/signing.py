"""Signatures on outgoing webhooks, as the Standard Webhooks specification writes them.

Every request carries three headers:

    webhook-id: msg_…            the message id, the same on every retry (deduplicate on it)
    webhook-timestamp: 1767225600  seconds since the epoch, when this attempt was signed
    webhook-signature: v1,<base64>  HMAC-SHA256 of "{id}.{timestamp}.{body}", keyed with the secret

The secret is `whsec_` followed by base64: the key is the base64-decoded bytes. A receiver
recomputes the signature over the raw body, compares in constant time and refuses a timestamp
more than `TOLERANCE_SECONDS` away from its clock (a replayed request is refused after that; within
it, the id tells a repeat). Libraries for the specification verify these headers as they are;
docs/outbound.md has a ten-line verifier in plain Python.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
SECRET_BYTES = 32
TOLERANCE_SECONDS = 5 * 60


class SignatureInvalid(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_hint(secret: str) -> str:
    return secret[: len(SECRET_PREFIX) + 4] + "…"


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureInvalid("the secret is not whsec_ followed by base64") from error


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    moment = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(moment),
        "webhook-signature": signature(secret, message_id, moment, body),
    }


def verify(
    secret: str,
    received: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> None:
    """Raise SignatureInvalid unless `received` (headers, lower-case names) sign `body` with `secret`."""
    message_id = received.get("webhook-id", "")
    stamp = received.get("webhook-timestamp", "")
    if not message_id or not stamp.isdigit():
        raise SignatureInvalid("missing webhook-id or webhook-timestamp")
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        raise SignatureInvalid("the timestamp is outside the tolerance (a replay, or a wrong clock)")
    expected = signature(secret, message_id, int(stamp), body)
    # The header may hold several signatures separated by spaces (during a secret rotation).
    if not any(
        hmac.compare_digest(expected, given) for given in received.get("webhook-signature", "").split()
    ):
        raise SignatureInvalid("no signature matches")
