"""Graph API shapes into Tertulia's values: times, authors, and the reading cursor."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

from tertulia.connectors.base import ConnectorError, RemoteAuthor


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (Graph leaves fields out freely)."""
    return value if isinstance(value, dict) else {}


def parse_time(value: Any) -> datetime:
    """Graph times ("2017-04-04T22:00:53+0000") as aware datetimes; now if missing."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def timestamp(value: Any) -> int:
    return int(parse_time(value).timestamp())


def author(raw: Any, fallback_name: str = "") -> RemoteAuthor:
    """`from` of a comment or message: {id, name} on Facebook, {id, username} on Instagram."""
    raw = raw if isinstance(raw, dict) else {}
    name = str(raw.get("username") or raw.get("name") or fallback_name or "")
    # Meta may leave `from` out (privacy settings, deleted accounts); the item still needs an author id.
    return RemoteAuthor(remote_id=str(raw.get("id") or "unknown"), handle=name, display_name=name)


@dataclass
class Position:
    """Where one stream stopped: the newest time read (unix seconds) and the ids read at that second.

    Graph times have one-second resolution, so several items can share the newest second; keeping
    their ids lets the next read take the others at that second without repeating these.
    """

    ts: int = 0
    ids: set[str] = field(default_factory=set)

    def is_new(self, ts: int, item_id: str) -> bool:
        return ts > self.ts or (ts == self.ts and item_id not in self.ids)

    def advance(self, ts: int, item_id: str) -> None:
        if ts > self.ts:
            self.ts, self.ids = ts, {item_id}
        elif ts == self.ts:
            self.ids.add(item_id)


@dataclass
class Cursor:
    """One position per stream ("c" comments, "m" messages), as compact JSON."""

    positions: dict[str, Position] = field(default_factory=dict)

    def get(self, stream: str) -> Position:
        return self.positions.setdefault(stream, Position())

    @classmethod
    def parse(cls, cursor: str) -> Cursor:
        try:
            data = json.loads(cursor)
            if not isinstance(data, dict):
                raise ValueError
            positions = {
                str(stream): Position(int(value[0]), {str(i) for i in value[1]})
                for stream, value in data.items()
            }
        except (ValueError, TypeError, IndexError, KeyError):
            raise ConnectorError(
                _("This is not a Facebook or Instagram cursor: %(cursor)s") % {"cursor": cursor[:40]}
            ) from None
        return cls(positions)

    def __str__(self) -> str:
        data: Mapping[str, Any] = {
            stream: [pos.ts, sorted(pos.ids)] for stream, pos in sorted(self.positions.items())
        }
        return json.dumps(data, separators=(",", ":"))


def first_url(text: str) -> str:
    for word in text.split():
        if word.startswith(("https://", "http://")):
            return word.rstrip(".,;:!?)")
    return ""
