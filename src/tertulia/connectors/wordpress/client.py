"""HTTP to one WordPress site's REST API as one user, with an Application Password.

Application Passwords (WordPress 5.6+) are HTTP Basic credentials made for API
clients: the user name and a 24-character password generated in the user's
profile, revocable there one by one. There is no token to exchange them for, so
the application password itself is the credential kept (sealed) in the vault.

WordPress publishes no rate limits, but a site is somebody's server (often a small one), so every
request spends from a polite per-site budget in `tertulia.connectors.ratelimit` shared by all
workers and all channels on that site (BUDGETS). A 429 from a host or security plugin holds every
worker off the site until its Retry-After (or a minute); `RateLimit-*` / `X-RateLimit-*` headers,
where a host sends them, replace our count with the site's own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

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
from tertulia.connectors.http import (
    TIMEOUT,
    USER_AGENT,
    body_detail,
    observe_window,
    response_json,
    retry_after,
    send,
)
from tertulia.core.outbound import GuardedTransport, OutboundFailed, OutboundRefused, Policy

API_PREFIX = "/wp-json/wp/v2"
DEFAULT_RETRY_AFTER = 60.0

NETWORK = "wordpress"
REQUESTS = "requests"
# Our own politeness, not WordPress's (it has none): one request a second on average, per site.
BUDGETS: dict[str, ratelimit.Budget] = {REQUESTS: ratelimit.Budget(limit=60, window_seconds=60)}
ratelimit.register(NETWORK, BUDGETS)


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code") or "") if isinstance(body, dict) else ""


def site_url(value: str) -> str:
    """The site's address as typed ("blog.example" or "https://blog.example/sub/"), normalized."""
    value = value.strip()
    if value and "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ContentRejected(_("Enter the WordPress site's address, e.g. https://blog.example."))
    if parts.username or parts.password:
        raise ContentRejected(_("The site's address must not contain a user name or password."))
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = body_detail(response, "message", "code") or str(status)
    if status in (401, 403):
        # 401: wrong or revoked application password; 403: the user may not moderate comments.
        raise AuthenticationFailed(
            _("WordPress refused the credentials or the user's role: %(detail)s") % {"detail": detail}
        )
    if status in (404, 410):
        raise RemoteNotFound(_("WordPress has no such item: %(detail)s") % {"detail": detail})
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After", ""), DEFAULT_RETRY_AFTER)
        raise RateLimited(
            _("The WordPress site asks to slow down; try again in %(seconds)d s.") % {"seconds": wait},
            retry_after=wait,
        )
    if status == 501:
        # Not implemented: asking again changes nothing. On DELETE it is the site's trash being off
        # (EMPTY_TRASH_DAYS = 0, code rest_trash_not_supported): only deleting for good would work.
        if _code(response) == "rest_trash_not_supported":
            raise ConnectorError(
                _(
                    "This WordPress site has its trash turned off, so the comment cannot be moved to the "
                    "trash. Delete it from the site's Comments screen, or turn the trash on."
                ),
                retryable=False,
            )
        raise ConnectorError(
            _("The WordPress site does not support this (501): %(detail)s") % {"detail": detail},
            retryable=False,
        )
    if status >= 500:
        raise TemporaryFailure(
            _("The WordPress site had an error (%(status)d): %(detail)s")
            % {"status": status, "detail": detail}
        )
    raise ContentRejected(
        _("WordPress refused the request (%(status)d): %(detail)s") % {"status": status, "detail": detail}
    )


class WordPressHTTP:
    def __init__(
        self, base_url: str, username: str, password: str, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = site_url(base_url)
        # Budgets are per site (every user and channel on it shares them), keyed by its address.
        self.account_key = self.base_url[:255]
        # The site's address was typed by a person: every request goes through the outbound guard
        # (public addresses on ports 80/443, or what TERTULIA_OUTBOUND_ALLOW opens; docs/outbound.md).
        self.client = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            auth=httpx.BasicAuth(username, password),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            timeout=TIMEOUT,
            transport=transport or GuardedTransport(Policy.from_settings()),
            trust_env=False,
        )

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        ratelimit.spend(NETWORK, self.account_key, REQUESTS)
        try:
            response = send(self.client, _("the WordPress site"), method, path, params=params, json=json)
        except OutboundRefused as refused:
            raise ContentRejected(str(refused)) from refused
        except OutboundFailed as failed:
            raise TemporaryFailure(str(failed)) from failed
        # Hosts that announce their own limits replace our polite guess with the real count.
        observe_window(NETWORK, self.account_key, REQUESTS, response.headers)
        try:
            raise_for_status(response)
        except RateLimited as limited:
            ratelimit.hold_off(NETWORK, self.account_key, REQUESTS, limited.retry_after)
            raise
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return response_json(self.request(method, path, **kwargs), _("the WordPress site"))
