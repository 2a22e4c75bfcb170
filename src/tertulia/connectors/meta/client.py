"""HTTP to Meta's Graph API as one Page or Instagram account: versioned paths, auth and typed errors.

Graph API errors come as `{"error": {"message", "type", "code", "error_subcode", "is_transient",
"fbtrace_id"}}` (Graph API "Handling Errors" guide); the HTTP status says little, the code says what
happened, so the mapping below reads the code first.

Rate limits are not announced as counts but as percentages of a rolling window, in the `X-App-Usage`
(`{"call_count": 28, "total_time": 25, "total_cputime": 25}`) and `X-Business-Use-Case-Usage`
(`{"<id>": [{"type": "pages", "call_count": 100, ..., "estimated_time_to_regain_access": 12}]}`,
minutes) headers. We keep a conservative local budget (the documented 200 calls per user per hour)
and, when Meta says a limit is reached, hold every worker off for the time it estimates.
"""

from __future__ import annotations

import json
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

# meta/oauth.py imports TIMEOUT and USER_AGENT from here; the aliases keep them exported.
from tertulia.connectors.http import TIMEOUT as TIMEOUT
from tertulia.connectors.http import USER_AGENT as USER_AGENT
from tertulia.connectors.http import LazyClient, lenient_json, send

GRAPH_URL = "https://graph.facebook.com"
# One version for every call; Meta supports each version for about two years after the next one ships.
API_VERSION = "v21.0"

CALLS = "calls"
CALLS_BUDGET = ratelimit.Budget(limit=200, window_seconds=3600)
# Without a hint from Meta: its windows are rolling hours; five minutes is a polite first wait.
DEFAULT_RETRY_AFTER = 300.0
for _network in ("facebook", "instagram"):
    ratelimit.register(_network, {CALLS: CALLS_BUDGET})

# Graph API error codes (Graph API "Error codes" reference).
AUTH_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
RATE_CODES = frozenset({4, 9, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
NOT_FOUND_SUBCODES = frozenset({33})  # "Object with ID ... does not exist"
NOT_FOUND_CODES = frozenset({803})  # "Some of the aliases you requested do not exist"
# Messenger: the person has not written within the standard 24-hour messaging window.
MESSAGING_WINDOW_SUBCODES = frozenset({2018278, 2534022})

Params = Mapping[str, str | int]


def graph_path(path: str) -> str:
    return f"/{API_VERSION}/{path.lstrip('/')}"


def _error_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds Meta says to wait (business use case estimate), or a rolling hour when usage is at 100 %.

    None when the headers say nothing is exhausted.
    """
    wait: float | None = None
    try:
        business = json.loads(headers.get("X-Business-Use-Case-Usage", "") or "{}")
    except ValueError:
        business = {}
    if isinstance(business, dict):
        for rows in business.values():
            for row in rows if isinstance(rows, list) else []:
                if not isinstance(row, dict):
                    continue
                minutes = _int(row.get("estimated_time_to_regain_access"))
                if minutes:
                    wait = max(wait or 0.0, minutes * 60.0)
                elif _usage_full(row):
                    wait = max(wait or 0.0, DEFAULT_RETRY_AFTER)
    for name in ("X-App-Usage", "X-Page-Usage", "X-Ad-Account-Usage"):
        try:
            usage = json.loads(headers.get(name, "") or "{}")
        except ValueError:
            continue
        if isinstance(usage, dict) and _usage_full(usage):
            wait = max(wait or 0.0, DEFAULT_RETRY_AFTER)
    return wait


def _usage_full(row: Mapping[str, Any]) -> bool:
    return any((_int(row.get(key)) or 0) >= 100 for key in ("call_count", "total_time", "total_cputime"))


def map_error(network_name: str, response: httpx.Response) -> ConnectorError:
    """A Graph API error response as the connector error a caller can act on."""
    error = _error_object(response)
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    detail = str(error.get("error_user_msg") or error.get("message") or response.text[:200])
    values = {"network": network_name, "detail": detail, "code": code or response.status_code}
    if code in RATE_CODES or response.status_code == 429:
        wait = usage_retry_after(response.headers) or DEFAULT_RETRY_AFTER
        return RateLimited(
            _("%(network)s rate limit reached; try again in %(seconds)d s.")
            % {"network": network_name, "seconds": wait},
            retry_after=wait,
        )
    if subcode in MESSAGING_WINDOW_SUBCODES:
        return ContentRejected(
            _("%(network)s only allows a reply within 24 hours of the person's last message: %(detail)s")
            % values
        )
    if code in AUTH_CODES or code in PERMISSION_CODES or response.status_code == 401:
        return AuthenticationFailed(
            _("%(network)s refused the credentials (%(code)s); connect the account again: %(detail)s")
            % values
        )
    if subcode in NOT_FOUND_SUBCODES or code in NOT_FOUND_CODES or response.status_code == 404:
        return RemoteNotFound(_("%(network)s has no such item: %(detail)s") % values)
    if error.get("is_transient") is True or code in TRANSIENT_CODES or response.status_code >= 500:
        return TemporaryFailure(_("%(network)s failed for now (%(code)s): %(detail)s") % values)
    if code == 100 or code in (368, 506):  # invalid parameter; blocked as abusive; duplicate post
        return ContentRejected(_("%(network)s rejected the request: %(detail)s") % values)
    return ConnectorError(_("%(network)s refused the request (%(code)s): %(detail)s") % values)


class GraphHTTP(LazyClient):
    """One account's view of the Graph API: its token, its budget, Meta's errors as ours."""

    headers = {"User-Agent": USER_AGENT}

    def __init__(
        self,
        network: str,
        network_name: str,
        base_url: str,
        access_token: str,
        limiter_key: str,
        http: httpx.Client | None = None,
    ) -> None:
        super().__init__(http)
        self.network = network
        self.network_name = network_name
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.limiter_key = limiter_key

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        data: Params | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        bucket: str = CALLS,
    ) -> dict[str, Any]:
        """Call `path` (without the version prefix); the JSON object Meta answered, or a typed error."""
        if not self.access_token:
            raise AuthenticationFailed(
                _("This %(network)s channel has no access token; connect it again.")
                % {"network": self.network_name}
            )
        ratelimit.spend(self.network, self.limiter_key, bucket)
        response = send(
            self._session(),
            self.network_name,
            method,
            self.base_url + graph_path(path),
            params=dict(params) if params else None,
            data=dict(data) if data else None,
            files=dict(files) if files else None,
            # The token travels in a header, so it never appears in a URL (Graph accepts Bearer).
            headers={"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"},
        )
        wait = usage_retry_after(response.headers)
        if wait is not None:
            ratelimit.hold_off(self.network, self.limiter_key, CALLS, wait)
        if response.status_code >= 400:
            failure = map_error(self.network_name, response)
            if isinstance(failure, RateLimited):
                ratelimit.hold_off(self.network, self.limiter_key, bucket, failure.retry_after)
            raise failure
        payload = lenient_json(response)
        if isinstance(payload, bool):  # some edges answer a bare `true`
            return {"success": payload}
        return payload if isinstance(payload, dict) else {}
