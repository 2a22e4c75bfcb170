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
from datetime import UTC, datetime
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


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


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


class XHttp:
    """One account's view of the API: its token, its rate-limit buckets, X's errors as ours."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        account_key: str,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.account_key = account_key
        self._http = http

    def _session(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=TIMEOUT)
        return self._http

    @property
    def session(self) -> httpx.Client:
        return self._session()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

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
        try:
            response = self._session().request(
                method,
                self.base_url + path,
                params=dict(params) if params else None,
                json=dict(json) if json is not None else None,
                headers={"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise TemporaryFailure(
                _("X could not be reached: %(error)s") % {"error": type(exc).__name__}
            ) from exc
        self._observe(bucket, response)
        try:
            payload: Any = response.json() if response.content else {}
        except ValueError:
            payload = {}
        if response.status_code >= 400:
            raise self._error(bucket, response, payload)
        return payload if isinstance(payload, dict) else {}

    def _observe(self, bucket: str, response: httpx.Response) -> None:
        limit = _header_int(response.headers, "x-rate-limit-limit")
        remaining = _header_int(response.headers, "x-rate-limit-remaining")
        reset = _header_int(response.headers, "x-rate-limit-reset")
        if limit is None or remaining is None or reset is None:
            return
        ratelimit.observe(
            NETWORK,
            self.account_key,
            bucket,
            limit=limit,
            remaining=remaining,
            resets_at=datetime.fromtimestamp(reset, tz=UTC),
        )

    def _error(self, bucket: str, response: httpx.Response, payload: Any) -> ConnectorError:
        status = response.status_code
        detail = _problem_text(payload)
        if status == 429:
            reset = _header_int(response.headers, "x-rate-limit-reset")
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
