"""A tiny connector for channel tests that must not depend on another network's state."""

from __future__ import annotations

import re
from typing import ClassVar

from tertulia.connectors.base import AccountInfo, Capability, Connector, ContentRejected


class FakeConnector(Connector):
    network = "fakenet"
    display_name = "Fake network"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.PUBLISH_TEXT, Capability.REPLY})

    @classmethod
    def prepare_account(cls, handle: str, display_name: str = "") -> AccountInfo:
        clean = handle.strip().removeprefix("@").lower()
        if not re.fullmatch(r"[a-z0-9_]{2,30}", clean):
            raise ContentRejected(f"{handle[:40]!r} is not a valid handle")
        return AccountInfo(external_id=f"fake-{clean}", handle=clean, display_name=display_name or clean)
