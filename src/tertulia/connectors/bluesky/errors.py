"""From the `atproto` SDK's exceptions to the connector interface's typed errors.

XRPC errors carry an HTTP status and an error name. What the rest of Tertulia needs to
know is what to do next: reconnect (AuthenticationFailed), wait (RateLimited, with how
long), try again later (TemporaryFailure), give up on this content (ContentRejected) or
on this object (RemoteNotFound). The outbound policy's refusals (the PDS or server on an address
Tertulia does not connect to) come through the SDK as they are, and become ContentRejected.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from typing import Any

from atproto_client import exceptions as sdk
from atproto_core.exceptions import AtProtocolError
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AuthenticationFailed,
    ConnectorError,
    ContentRejected,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.core.outbound import OutboundFailed, OutboundRefused

# Error names the PDS and AppView use for a session that is gone or never was. An
# expired access token comes back as 400 ExpiredToken, not 401.
AUTH_ERRORS = frozenset(
    {
        "AuthRequired",
        "AuthMissing",
        "AuthenticationRequired",
        "ExpiredToken",
        "InvalidToken",
        "AccountTakedown",
        "AccountDeactivated",
        "InvalidPassword",
    }
)
NOT_FOUND_ERRORS = frozenset(
    {"RecordNotFound", "NotFound", "PostNotFound", "ProfileNotFound", "RepoNotFound"}
)
# When the server sends no hint, wait this long after a 429 (seconds).
DEFAULT_RETRY_AFTER = 60.0


def error_name_and_message(exc: sdk.RequestErrorBase) -> tuple[str, str]:
    """The XRPC error name ("ExpiredToken") and message, when the response carried them."""
    content: Any = exc.response.content if exc.response is not None else None
    if content is None:
        return "", ""
    if isinstance(content, dict):
        return str(content.get("error") or ""), str(content.get("message") or "")
    return str(getattr(content, "error", "") or ""), str(getattr(content, "message", "") or "")


def retry_after(exc: sdk.RateLimitExceededError, now: float | None = None) -> float:
    """Seconds until the server lets us in again: Retry-After, else RateLimit-Reset, else a default."""
    if exc.retry_after is not None:
        return float(exc.retry_after)
    reset_at: datetime | None = exc.reset_at
    if reset_at is not None:
        now = time.time() if now is None else now
        wait = reset_at.timestamp() - now
        if math.isfinite(wait):
            return max(wait, 0.0)
    return DEFAULT_RETRY_AFTER


def _detail(name: str, message: str, status: int | None) -> str:
    detail = ": ".join(part for part in (name, message) if part)
    return (detail or str(status or ""))[:300]


def translate(exc: Exception) -> ConnectorError:
    """The typed error for an SDK exception (anything unexpected becomes a plain ConnectorError)."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, OutboundRefused):
        # The outbound policy (docs/outbound.md) refused the server before anything was sent: a
        # private or reserved address, a port, a scheme. Trying again changes nothing.
        return ContentRejected(
            _("This Bluesky server's address is not allowed: %(reason)s") % {"reason": exc}
        )
    if isinstance(exc, OutboundFailed):  # no such host, for one: it may work later
        return TemporaryFailure(_("Bluesky could not be reached: %(detail)s") % {"detail": exc})
    if isinstance(exc, sdk.LoginRequiredError):
        return AuthenticationFailed(_("Bluesky needs the account to sign in again."))
    if not isinstance(exc, sdk.RequestErrorBase):
        if isinstance(exc, AtProtocolError):
            return ConnectorError(
                _("Bluesky sent an answer Tertulia could not read: %(detail)s") % {"detail": exc}
            )
        return ConnectorError(str(exc))

    status = exc.response.status_code if exc.response is not None else None
    name, message = error_name_and_message(exc)
    detail = _detail(name, message, status)

    if isinstance(exc, sdk.RateLimitExceededError):
        wait = retry_after(exc)
        return RateLimited(
            _("Bluesky's rate limit was reached; try again in %(seconds)d s.") % {"seconds": math.ceil(wait)},
            retry_after=wait,
        )
    if name in AUTH_ERRORS or status == 401:
        return AuthenticationFailed(
            _("Bluesky refused the session (%(detail)s); reconnect the channel.") % {"detail": detail}
        )
    if status is None or isinstance(exc, sdk.InvokeTimeoutError):
        # A transport failure: no answer at all.
        return TemporaryFailure(
            _("Bluesky could not be reached: %(detail)s") % {"detail": exc.__cause__ or exc}
        )
    if name in NOT_FOUND_ERRORS or status == 404 or (status == 400 and "not found" in message.lower()):
        return RemoteNotFound(_("Not found on Bluesky: %(detail)s") % {"detail": detail})
    if status == 413:
        return ContentRejected(_("Bluesky refused the content as too large: %(detail)s") % {"detail": detail})
    if status >= 500 or status in {408, 409, 425}:
        return TemporaryFailure(
            _("Bluesky failed temporarily (%(status)s): %(detail)s") % {"status": status, "detail": detail}
        )
    if status == 403:
        return ContentRejected(_("Bluesky did not allow this: %(detail)s") % {"detail": detail})
    if status == 400:
        return ContentRejected(_("Bluesky refused the request: %(detail)s") % {"detail": detail})
    return ConnectorError(_("Bluesky answered %(status)s: %(detail)s") % {"status": status, "detail": detail})
