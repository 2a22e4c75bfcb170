"""What an outbound request can end in, besides an answer.

`OutboundRefused`: Tertulia's policy said no before anything was sent (a scheme, a port, an
address); trying again changes nothing. `OutboundFailed`: the other side did not give a usable
answer (no such host, no connection, too slow, too large, too many redirects); it may work later.
Each carries a stable `code` for callers and tests, and a message for a person.
"""

from __future__ import annotations


class OutboundError(Exception):
    code = "error"

    def __init__(self, message: str, *, code: str = "", detail: str = "") -> None:
        super().__init__(message)
        if code:
            self.code = code
        self.detail = detail  # for logs: never a path or query string (they may hold tokens)


class OutboundRefused(OutboundError):
    """Codes: scheme, credentials, host, port, address."""

    code = "refused"


class OutboundFailed(OutboundError):
    """Codes: resolve, unreachable, timeout, too_large, redirects, encoding."""

    code = "failed"
