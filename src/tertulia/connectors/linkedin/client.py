"""HTTP to LinkedIn's versioned REST API (`/rest/...`) as one member acting for one organization.

Every request carries the bearer token, `LinkedIn-Version: YYYYMM` (the API
version the shapes here follow) and `X-Restli-Protocol-Version: 2.0.0` (Rest.li
2.0 URL encoding: URNs in paths and queries are percent-encoded, lists are
`List(a,b)`).

LinkedIn limits calls per application and per member per day (reset at midnight UTC) and sends no
rate headers. Every request spends from shared budgets in `tertulia.connectors.ratelimit` first, so
all workers together stay inside them: the channel's daily calls, its daily posts and comments, and
the whole application's daily calls (see BUDGETS and docs/connectors/linkedin.md for the numbers).
A 429 holds every worker off the channel until its Retry-After (or an hour).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.utils.translation import gettext as _

from tertulia.connectors import ratelimit
from tertulia.connectors.base import (
    AuthenticationFailed,
    ContentRejected,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.http import TIMEOUT, USER_AGENT, body_detail, response_json, retry_after, send

API_BASE_URL = "https://api.linkedin.com"
API_VERSION = "202505"
RESTLI_PROTOCOL = "2.0.0"
DEFAULT_RETRY_AFTER = 3600.0

NETWORK = "linkedin"
DAY = 24 * 60 * 60
# LinkedIn does not publish its standard limits ("look them up in the Developer Portal, Analytics
# tab"); these are conservative defaults, documented in docs/connectors/linkedin.md.
CALLS = "calls"  # every request of one channel (one member acting for one organization)
WRITES = "writes"  # posts and comments created by one channel
APP = "app"  # every request of the whole application, all channels together
APP_ACCOUNT = "*"
BUDGETS: dict[str, ratelimit.Budget] = {
    CALLS: ratelimit.Budget(limit=5_000, window_seconds=DAY),
    WRITES: ratelimit.Budget(limit=150, window_seconds=DAY),
    APP: ratelimit.Budget(limit=100_000, window_seconds=DAY),
}
ratelimit.register(NETWORK, BUDGETS)


def buckets_for(method: str, path: str) -> list[str]:
    """The channel's budgets a request spends from, most restrictive first."""
    route = urlsplit(path).path
    creates = method.upper() == "POST" and (
        route == "/rest/posts" or (route.startswith("/rest/socialActions/") and route.endswith("/comments"))
    )
    return [WRITES, CALLS] if creates else [CALLS]


class DuplicatePost(ContentRejected):
    """LinkedIn's 422 DUPLICATE_POST: the same content was already posted (by an earlier attempt)."""

    def __init__(self, message: str, *, existing: str = "") -> None:
        super().__init__(message)
        self.existing = existing  # the URN LinkedIn names, when its message does


def urn(value: str) -> str:
    """A URN encoded for a Rest.li 2.0 path or query value (every reserved character escaped)."""
    return quote(value, safe="")


def raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = body_detail(response, "message", "error_description", "error") or str(status)
    if status == 401:
        raise AuthenticationFailed(_("LinkedIn refused the credentials: %(detail)s") % {"detail": detail})
    if status == 404:
        raise RemoteNotFound(_("LinkedIn has no such item: %(detail)s") % {"detail": detail})
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After", ""), DEFAULT_RETRY_AFTER)
        raise RateLimited(
            _("LinkedIn rate limit reached; try again in %(seconds)d s.") % {"seconds": wait},
            retry_after=wait,
        )
    if status == 422 and "DUPLICATE_POST" in response.text:
        existing = ""
        for word in detail.replace(",", " ").split():
            if word.startswith(("urn:li:share:", "urn:li:ugcPost:")):
                existing = word.rstrip(".")
        raise DuplicatePost(
            _("LinkedIn says this post already exists: %(detail)s") % {"detail": detail}, existing=existing
        )
    if status >= 500:
        raise TemporaryFailure(
            _("LinkedIn had a server error (%(status)d): %(detail)s") % {"status": status, "detail": detail}
        )
    # 400, 403 (a missing permission for this organization), 409, 422...
    raise ContentRejected(
        _("LinkedIn refused the request (%(status)d): %(detail)s") % {"status": status, "detail": detail}
    )


class LinkedInHTTP:
    def __init__(
        self,
        base_url: str,
        access_token: str,
        version: str = API_VERSION,
        transport: httpx.BaseTransport | None = None,
        account_key: str = "",
    ) -> None:
        self.base_url = (base_url or API_BASE_URL).rstrip("/")
        self.access_token = access_token
        # The channel whose budgets requests spend from; "" (signing in, no channel yet): the app's only.
        self.account_key = account_key
        self.client = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "LinkedIn-Version": version,
                "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=TIMEOUT,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """`path` carries its query already encoded (Rest.li lists and URNs do not survive httpx's params).

        Spends from the channel's and the application's budgets first (RateLimited, costing nothing,
        if one is used up or held off); a 429 holds every worker off this channel until Retry-After.
        """
        if self.account_key:
            for bucket in buckets_for(method, path):
                ratelimit.spend(NETWORK, self.account_key, bucket)
        ratelimit.spend(NETWORK, APP_ACCOUNT, APP)
        response = send(self.client, "LinkedIn", method, path, json=json, content=content, headers=headers)
        try:
            raise_for_status(response)
        except RateLimited as limited:
            if self.account_key:
                ratelimit.hold_off(NETWORK, self.account_key, CALLS, limited.retry_after)
            raise
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return response_json(self.request(method, path, **kwargs), "LinkedIn")
