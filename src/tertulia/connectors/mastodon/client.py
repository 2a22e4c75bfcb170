"""HTTP to one Mastodon instance as one account: auth, rate limits and error mapping.

Every request spends from the account's budget in `tertulia.connectors.ratelimit`
first (Mastodon allows 300 requests per 5 minutes per account), and every
response's `X-RateLimit-*` headers replace our count with the instance's own.
A 429 holds off every worker until the instance's reset time.

The instance's address was typed by a person, so every request goes through the outbound policy
(`tertulia.core.outbound`): it was checked when the account was connected, but its DNS may have
changed since (rebinding it to an internal address), so each connection is checked and pinned again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone
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
from tertulia.core.outbound import OutboundFailed, OutboundRefused, Policy, guarded_client

NETWORK = "mastodon"
BUCKET = "requests"
DEFAULT_LIMIT = 300
DEFAULT_WINDOW_SECONDS = 300
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "Tertulia (+https://github.com/tertulia)"

ratelimit.register(NETWORK, {BUCKET: ratelimit.Budget(DEFAULT_LIMIT, DEFAULT_WINDOW_SECONDS)})

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"')


def parse_link_header(value: str) -> dict[str, str]:
    """`Link: <url>; rel="next", <url>; rel="prev"` as {"next": url, "prev": url}."""
    return {rel: url for url, rel in _LINK.findall(value)}


def outbound_policy() -> Policy:
    """The shared outbound policy (docs/outbound.md); `TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES`
    still opens every address and port to Mastodon requests (the tests)."""
    return Policy.from_settings(
        any_address=bool(getattr(settings, "TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES", False))
    )


def address_refused(server: str, refused: OutboundRefused) -> ContentRejected:
    """The policy refused the instance's address: no request was sent, and trying again changes nothing."""
    return ContentRejected(
        _("This server's address is not allowed (%(server)s): %(reason)s")
        % {"server": server, "reason": str(refused)}
    )


def parse_time(value: str) -> datetime:
    """Mastodon's ISO 8601 timestamps ("2019-12-05T11:34:47.196Z") as aware datetimes."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("error") or "")
    return ""


class MastodonHTTP:
    """One account on one instance. `limiter_key` names the account for rate limits."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        limiter_key: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.limiter_key = limiter_key
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        if transport is not None:  # the caller's (tests, or an already guarded transport)
            self.client = httpx.Client(
                base_url=self.base_url, headers=headers, timeout=TIMEOUT, transport=transport
            )
        else:
            self.client = guarded_client(
                outbound_policy(), base_url=self.base_url, headers=headers, timeout=TIMEOUT
            )

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str | int | float | bool | None]] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        ratelimit.spend(NETWORK, self.limiter_key, BUCKET)
        try:
            response = self.client.request(
                method, path, params=params, json=json, data=data, files=files, headers=headers
            )
        except OutboundRefused as refused:
            raise address_refused(self.base_url, refused) from refused
        except httpx.TimeoutException as error:
            raise TemporaryFailure(_("Mastodon did not answer in time.")) from error
        except (httpx.TransportError, OutboundFailed) as error:
            raise TemporaryFailure(_("Could not reach the Mastodon instance.")) from error
        self.observe(response)
        raise_for_status(response, self.limiter_key)
        return response

    def observe(self, response: httpx.Response) -> None:
        """Adopt the instance's own view of our budget from the X-RateLimit-* headers."""
        state = rate_headers(response)
        if state is not None:
            limit, remaining, resets_at = state
            ratelimit.observe(
                NETWORK, self.limiter_key, BUCKET, limit=limit, remaining=remaining, resets_at=resets_at
            )


def rate_headers(response: httpx.Response) -> tuple[int, int, datetime] | None:
    try:
        limit = int(response.headers["X-RateLimit-Limit"])
        remaining = int(response.headers["X-RateLimit-Remaining"])
        resets_at = parse_time(response.headers["X-RateLimit-Reset"])
    except (KeyError, ValueError):
        return None
    return limit, remaining, resets_at


def retry_after(response: httpx.Response) -> float:
    """Seconds to wait: Retry-After if sent, else until X-RateLimit-Reset, else a whole window."""
    value = response.headers.get("Retry-After", "")
    if value.strip().isdigit():
        return float(value)
    state = rate_headers(response)
    if state is not None:
        return max((state[2] - timezone.now()).total_seconds(), 0.0)
    return float(DEFAULT_WINDOW_SECONDS)


def raise_for_status(response: httpx.Response, limiter_key: str | None = None) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = error_message(response)
    if status in (401, 403):
        raise AuthenticationFailed(
            _("Mastodon refused the credentials: %(detail)s") % {"detail": detail or status}
        )
    if status in (404, 410):
        raise RemoteNotFound(_("Mastodon has no such item: %(detail)s") % {"detail": detail or status})
    if status == 422:
        raise ContentRejected(_("Mastodon rejected the content: %(detail)s") % {"detail": detail or status})
    if status == 429:
        wait = retry_after(response)
        if limiter_key is not None:
            ratelimit.hold_off(NETWORK, limiter_key, BUCKET, wait)
        raise RateLimited(
            _("Mastodon rate limit reached; try again in %(seconds)d s.") % {"seconds": wait},
            retry_after=wait,
        )
    if status >= 500:
        raise TemporaryFailure(
            _("Mastodon had a server error (%(status)d): %(detail)s") % {"status": status, "detail": detail}
        )
    raise ConnectorError(
        _("Mastodon refused the request (%(status)d): %(detail)s") % {"status": status, "detail": detail}
    )
