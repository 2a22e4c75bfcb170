from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tertulia.core.models.audit import Via

if TYPE_CHECKING:
    from django.http import HttpRequest

    from tertulia.core.models import User


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where: carried into every action for the audit trail."""

    user: User | None
    via: str
    ip_address: str | None = None
    user_agent: str = ""
    label_override: str = ""

    @property
    def label(self) -> str:
        if self.label_override:
            return self.label_override
        if self.user is not None:
            return self.user.email
        return "system"

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user=None, via=Via.SYSTEM, label_override=label)

    @classmethod
    def cli(cls, user: User | None = None) -> Actor:
        return cls(user=user, via=Via.CLI, label_override="" if user else "command line")

    @classmethod
    def from_request(cls, request: HttpRequest, via: str = Via.WEB, label: str = "") -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,
            via=via,
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:255],
            label_override=label,
        )


def client_ip(request: HttpRequest) -> str | None:
    """The peer address. Proxies' X-Forwarded-For is not trusted by default (it is client-controlled)."""
    address = str(request.META.get("REMOTE_ADDR") or "")
    if not address:
        return None
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address
