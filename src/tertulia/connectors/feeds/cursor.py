"""The feed cursor: what a poll must remember so the next one repeats nothing and loses nothing.

A feed has no "since" parameter: every fetch returns its latest N entries. So the
cursor keeps

- `seen`: a short hash of every entry already returned that is still in the feed
  (entries that fall out of the feed are forgotten, which keeps the cursor as
  small as the feed);
- `floor`: the oldest date among the seen entries still in the feed. An entry
  that is not in `seen` but dated before the floor fell out of the feed earlier
  and came back (feeds that wobble), so it is not new;
- `etag` and `modified`: the validators for a conditional GET, kept only once a
  poll has returned everything new (a page cut short by `limit` must be fetched
  again in full next time, not answered with 304).

It travels as compact JSON; callers treat it as opaque.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

VERSION = 1


def entry_key(identity: str) -> str:
    """A 64-bit hash of an entry's id: enough to tell a feed's entries apart, small in the cursor."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


@dataclass
class FeedCursor:
    seen: set[str] = field(default_factory=set)
    floor: datetime | None = None
    etag: str = ""
    modified: str = ""

    def encode(self) -> str:
        return json.dumps(
            {
                "v": VERSION,
                "seen": sorted(self.seen),
                "floor": self.floor.isoformat() if self.floor else "",
                "etag": self.etag,
                "modified": self.modified,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, value: str | None) -> FeedCursor:
        """A cursor from `encode`; anything else (None, garbage, another version) starts afresh."""
        if not value:
            return cls()
        try:
            data = json.loads(value)
            if not isinstance(data, dict) or data.get("v") != VERSION:
                return cls()
            floor = datetime.fromisoformat(data["floor"]) if data.get("floor") else None
            return cls(
                seen={str(key) for key in data.get("seen", [])},
                floor=floor,
                etag=str(data.get("etag", "")),
                modified=str(data.get("modified", "")),
            )
        except (ValueError, TypeError, KeyError):
            return cls()
