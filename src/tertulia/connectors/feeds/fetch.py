"""Fetching a feed safely: http(s) only, public addresses only, bounded time and size, conditional GET.

A feed URL is typed by a person, so the fetch is a server-side request to an
address someone else chose (SSRF). It goes through `tertulia.core.outbound`, the
policy every such request follows (docs/outbound.md):

- only `http` and `https`, no user names or passwords in the URL;
- public addresses only, on ports 80 and 443, each host resolved once and
  connected to at exactly the address that was checked (no DNS rebinding),
  checked again for every redirect hop; the operator's allow-list
  `TERTULIA_OUTBOUND_ALLOW` opens private addresses, names or ports, and the
  older Django setting `TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES = True` still
  lets feeds reach any address and port (an intranet feed; the tests);
- at most `MAX_REDIRECTS` redirects, `TIMEOUT` per step and `DEADLINE` in all,
  and at most `MAX_FEED_BYTES` read, compressed or not (a longer body is
  refused, not truncated, so a half feed is never mistaken for a whole one).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from tertulia.connectors.base import ContentRejected, RateLimited, RemoteNotFound, TemporaryFailure
from tertulia.core import outbound

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
DEADLINE = 60.0  # the whole fetch: redirects and a slowly trickling body included
USER_AGENT = "Tertulia feed reader (+https://github.com/tertulia)"
DEFAULT_RETRY_AFTER = 300.0  # a 429 without Retry-After: five minutes
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True)
class FetchResult:
    """`body` is None when the server said 304 Not Modified."""

    url: str  # after redirects
    body: bytes | None
    content_type: str
    etag: str
    last_modified: str


def check_url(url: str) -> str:
    """The URL, stripped, if it is one we may fetch; otherwise ContentRejected with the reason."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ContentRejected(_("A feed address must start with http:// or https://."))
    if not parts.hostname:
        raise ContentRejected(_("A feed address needs a host name."))
    if parts.username or parts.password:
        raise ContentRejected(_("A feed address must not contain a user name or password."))
    return url


def _allow_private() -> bool:
    return bool(getattr(settings, "TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES", False))


def policy() -> outbound.Policy:
    return outbound.Policy.from_settings(any_address=_allow_private())


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    max_bytes: int = MAX_FEED_BYTES,
) -> FetchResult:
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = check_url(url)
    host = urlsplit(current).hostname or current
    try:
        response = outbound.fetch(
            current,
            headers=headers,
            policy=policy(),
            max_bytes=max_bytes,
            max_redirects=MAX_REDIRECTS,
            timeout=TIMEOUT,
            deadline=DEADLINE,
        )
    except outbound.OutboundRefused as refused:
        raise _refusal(refused, host) from refused
    except outbound.OutboundFailed as failed:
        raise _failure(failed, host, max_bytes) from failed
    return _read(response, max_bytes)


def _refusal(refused: outbound.OutboundRefused, host: str) -> ContentRejected:
    if refused.code == "scheme":
        return ContentRejected(_("A feed address must start with http:// or https://."))
    if refused.code == "credentials":
        return ContentRejected(_("A feed address must not contain a user name or password."))
    if refused.code == "address":
        return ContentRejected(
            _("The feed's host %(host)s is on a private or reserved network; Tertulia does not fetch it.")
            % {"host": host}
        )
    return ContentRejected(str(refused))


def _failure(failed: outbound.OutboundFailed, host: str, max_bytes: int) -> Exception:
    if failed.code == "too_large":
        return ContentRejected(
            _("The feed is larger than %(megabytes)d MB; Tertulia does not read it.")
            % {"megabytes": max_bytes // (1024 * 1024)}
        )
    if failed.code == "redirects":
        return TemporaryFailure(_("The feed redirected too many times."))
    if failed.code == "resolve":
        return TemporaryFailure(_("The feed's host %(host)s could not be resolved.") % {"host": host})
    if failed.code in ("timeout", "unreachable"):
        # The wording of connectors.http.reaching, as before the move onto tertulia.core.outbound.
        name = _("the feed's server")
        if failed.code == "timeout":
            message = _("%(network)s did not answer in time.") % {"network": name}
        else:
            message = _("Could not reach %(network)s.") % {"network": name}
        return TemporaryFailure(message[:1].upper() + message[1:])
    return TemporaryFailure(str(failed))  # a damaged or oddly encoded body: it may be whole next time


def _read(response: outbound.Response, max_bytes: int) -> FetchResult:
    status = response.status
    if status == 304:
        return FetchResult(response.url, None, "", response.headers.get("etag", ""), "")
    if status in (404, 410):
        raise RemoteNotFound(_("The feed is gone (HTTP %(status)d).") % {"status": status})
    if status in (401, 403):
        raise ContentRejected(_("The feed's server refused access (HTTP %(status)d).") % {"status": status})
    if status == 429:
        value = response.headers.get("retry-after", "").strip()
        wait = float(value) if value.isdigit() else DEFAULT_RETRY_AFTER
        raise RateLimited(
            _("The feed's server asks to slow down; try again in %(seconds)d s.") % {"seconds": wait},
            retry_after=wait,
        )
    if status >= 500:
        raise TemporaryFailure(
            _("The feed's server could not answer now (HTTP %(status)d).") % {"status": status}
        )
    if status != 200:
        raise ContentRejected(_("The feed's server answered HTTP %(status)d.") % {"status": status})
    return FetchResult(
        url=response.url,
        body=response.body,
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag", ""),
        last_modified=response.headers.get("last-modified", ""),
    )
