"""Small pure helpers around AT Protocol identifiers: AT URIs, record keys, timestamps.

Kept apart from the connector so they can be tested without a network.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

POST_COLLECTION = "app.bsky.feed.post"
BLOCK_COLLECTION = "app.bsky.graph.block"
WEB_URL = "https://bsky.app"

# base32-sortable, the alphabet of TIDs (timestamp identifiers, the record keys of posts).
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Deterministic record keys get a timestamp inside 2023 (microseconds since the epoch): a
# plausible, past time, so no client mistakes the key for a post from the future.
_TID_RANGE_START = 1_672_531_200_000_000
_TID_RANGE_SPAN = 365 * 24 * 3600 * 1_000_000


@dataclass(frozen=True)
class AtUri:
    """at://did:plc:abc/app.bsky.feed.post/3k2... split into its parts."""

    repo: str
    collection: str
    rkey: str

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def parse_at_uri(value: str) -> AtUri | None:
    """The parts of a record's AT URI, or None if `value` is not one."""
    if not value.startswith("at://"):
        return None
    parts = value[len("at://") :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    repo, collection, rkey = parts
    if not repo.startswith("did:") and "." not in repo:
        return None
    return AtUri(repo, collection, rkey)


def encode_tid(value: int) -> str:
    """A 63-bit integer as a 13-character TID."""
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def deterministic_tid(*parts: str) -> str:
    """A valid TID record key derived only from `parts` (e.g. the account and an idempotency key).

    Posts must have TID record keys (the PDS validates it). Deriving the key from the
    idempotency key makes publishing idempotent on the network itself: a retry writes to
    the same key, finds it taken and returns the post already there.
    """
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).digest()
    number = int.from_bytes(digest[:8], "big")
    micros = _TID_RANGE_START + (number >> 10) % _TID_RANGE_SPAN
    clock_id = number & 0x3FF
    return encode_tid((micros << 10) | clock_id)


def post_url(uri: AtUri, handle: str = "") -> str:
    """The post on the Bluesky web app (the handle reads better than the DID, either works)."""
    return f"{WEB_URL}/profile/{handle or uri.repo}/post/{uri.rkey}"


def profile_url(actor: str) -> str:
    return f"{WEB_URL}/profile/{actor}"


def now_iso() -> str:
    """The current time in the form atproto records use (UTC, milliseconds, Z)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_datetime(value: str | None) -> datetime | None:
    """An atproto datetime string as an aware datetime (None if absent or unreadable)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def jwt_claims(token: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT: enough to read `exp` and `scope` of our own session."""
    try:
        payload = token.split(".")[1]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(decoded)
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_expiry(token: str) -> datetime | None:
    exp = jwt_claims(token).get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None
