from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    id: str
    organization_id: int
    topic: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_sse(self) -> str:
        """Server-Sent Events wire format; the topic is the event name pages listen for."""
        payload = json.dumps({"topic": self.topic, **self.data}, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.topic}\ndata: {payload}\n\n"
