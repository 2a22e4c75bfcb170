"""HTTP plumbing for X API v2: authentication, per-endpoint rate limits and typed errors.

X limits each endpoint in its own 15-minute (or 24-hour) window per user and says where a window stands
in `x-rate-limit-limit`, `x-rate-limit-remaining` and `x-rate-limit-reset` (epoch seconds) on every
response. Each endpoint is a bucket of `tertulia.connectors.ratelimit`: we spend from it before a
request, adopt X's own figures after it, and on a 429 hold every worker off that endpoint until the
reset X announced.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AuthenticationFailed,
    ConnectorError,
    ContentRejected,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.http import LazyClient, header_int, lenient_json, observe_window, send

NETWORK = "x"
TIMEOUT = httpx.Timeout(20.0)
# When a 429 comes without a reset header: X's windows are 15 minutes; a minute is a polite first wait.
DEFAULT_RETRY_AFTER = 60.0

# The endpoints Tertulia calls, as buckets, with X's documented per-user limits (Basic access) as the
# budget before the first response; X's headers then replace them with the account's real figures.
FIFTEEN_MINUTES = 15 * 60
BUDGETS: dict[str, ratelimit.Budget] = {
    "POST /2/tweets": ratelimit.Budget(limit=100, window_seconds=FIFTEEN_MINUTES),
    "DELETE /2/tweets/:id": ratelimit.Budget(limit=50, window_seconds=FIFTEEN_MINUTES),
    "GET /2/tweets": ratelimit.Budget(limit=900, window_seconds=FIFTEEN_MINUTES),
    "GET /2/users/me": ratelimit.Budget(limit=75, window_seconds=FIFTEEN_MINUTES),
    "GET /2/users/:id/mentions": ratelimit.Budget(limit=180, window_seconds=FIFTEEN_MINUTES),
    "GET /2/users/:id/tweets": ratelimit.Budget(limit=900, window_seconds=FIFTEEN_MINUTES),
    "GET /2/dm_events": ratelimit.Budget(limit=300, window_seconds=FIFTEEN_MINUTES),
    "POST /2/dm_conversations/with/:participant_id/messages": ratelimit.Budget(
        limit=200, window_seconds=FIFTEEN_MINUTES
    ),
    "DELETE /2/dm_events/:id": ratelimit.Budget(limit=300, window_seconds=FIFTEEN_MINUTES),
    "PUT /2/tweets/:id/hidden": ratelimit.Budget(limit=50, window_seconds=FIFTEEN_MINUTES),
    "POST /2/users/:id/muting": ratelimit.Budget(limit=50, window_seconds=FIFTEEN_MINUTES),
    # Media upload (images for posts): first guesses until X's headers say otherwise (docs/connectors/x.md).
    "POST /2/media/upload/initialize": ratelimit.Budget(limit=180, window_seconds=FIFTEEN_MINUTES),
    "POST /2/media/upload/:id/append": ratelimit.Budget(limit=900, window_seconds=FIFTEEN_MINUTES),
    "POST /2/media/upload/:id/finalize": ratelimit.Budget(limit=180, window_seconds=FIFTEEN_MINUTES),
    "GET /2/media/upload": ratelimit.Budget(limit=900, window_seconds=FIFTEEN_MINUTES),
    "POST /2/media/metadata": ratelimit.Budget(limit=180, window_seconds=FIFTEEN_MINUTES),
}
ratelimit.register(NETWORK, BUDGETS)


def _problem_text(payload: Any) -> str:
    """The human part of an X error body (v2 problem, v2 errors array or v1.1 errors), shortened."""
    if not isinstance(payload, dict):
        return ""
    parts: list[str] = []
    for key in ("detail", "title", "message", "error_description", "error"):
        if isinstance(payload.get(key), str):
            parts.append(payload[key])
    for error in payload.get("errors") or []:
        if isinstance(error, dict):
            parts.extend(str(error[k]) for k in ("message", "detail") if isinstance(error.get(k), str))
    return " ".join(parts)[:300]


class XHttp(LazyClient):
    """One account's view of the API: its token, its rate-limit buckets, X's errors as ours."""

    timeout = TIMEOUT

    def __init__(
        self,
        base_url: str,
        access_token: str,
        account_key: str,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(http)
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.account_key = account_key

    @property
    def session(self) -> httpx.Client:
        return self._session()

    def request(
        self,
        method: str,
        path: str,
        bucket: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not self.access_token:
            raise AuthenticationFailed(_("This X channel has no access token; connect it again."))
        ratelimit.spend(NETWORK, self.account_key, bucket)
        response = send(
            self._session(),
            "X",
            method,
            self.base_url + path,
            params=dict(params) if params else None,
            json=dict(json) if json is not None else None,
            headers={"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"},
        )
        # X's own figures for this endpoint replace our count (its reset is an epoch time).
        observe_window(NETWORK, self.account_key, bucket, response.headers, prefixes=("x-rate-limit-",))
        payload = lenient_json(response)
        if response.status_code >= 400:
            raise self._error(bucket, response, payload)
        return payload if isinstance(payload, dict) else {}

    def _error(self, bucket: str, response: httpx.Response, payload: Any) -> ConnectorError:
        status = response.status_code
        detail = _problem_text(payload)
        if status == 429:
            reset = header_int(response.headers, "x-rate-limit-reset")
            retry_after = max(reset - time.time(), 1.0) if reset is not None else DEFAULT_RETRY_AFTER
            ratelimit.hold_off(NETWORK, self.account_key, bucket, retry_after)
            return RateLimited(
                _("X rate limit reached for %(endpoint)s; try again in %(seconds)d s.")
                % {"endpoint": bucket, "seconds": retry_after},
                retry_after=retry_after,
            )
        if status == 401:
            return AuthenticationFailed(_("X refused the credentials; connect the account again."))
        if status == 404:
            return RemoteNotFound(_("X does not have it any more: %(detail)s") % {"detail": detail})
        if status == 400 or (status == 403 and "duplicate" in detail.lower()):
            return ContentRejected(_("X refused the request: %(detail)s") % {"detail": detail})
        if status >= 500:
            return TemporaryFailure(_("X failed (%(status)s); it may work later.") % {"status": status})
        return ConnectorError(
            _("X refused the request (%(status)s): %(detail)s") % {"status": status, "detail": detail}
        )
