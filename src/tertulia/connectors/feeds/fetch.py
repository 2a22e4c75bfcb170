"""Fetching a feed safely: http(s) only, public addresses only, bounded time and size, conditional GET.

A feed URL is typed by a person, so the fetch is a server-side request to an
address someone else chose (SSRF). The guards:

- only `http` and `https`, no user names or passwords in the URL;
- the host must resolve to public addresses only (no loopback, private,
  link-local, multicast or reserved ranges), checked again for every redirect
  hop; an operator can allow private addresses with the Django setting
  `TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES = True` (an intranet feed; the tests).
  The check resolves the name before httpx does, so a DNS server that answers
  differently the second time (DNS rebinding) is not stopped by it: run workers
  behind an egress proxy or firewall where that matters;
- at most `MAX_REDIRECTS` redirects, `TIMEOUT` per request, and at most
  `MAX_FEED_BYTES` read (a longer body is refused, not truncated, so a half
  feed is never mistaken for a whole one).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from tertulia.connectors.base import ContentRejected, RateLimited, RemoteNotFound, TemporaryFailure
from tertulia.connectors.http import reaching

MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
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


def check_host(url: str) -> None:
    """Refuse hosts that resolve to non-public addresses (unless the operator allows them)."""
    if _allow_private():
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError) as error:
        raise TemporaryFailure(
            _("The feed's host %(host)s could not be resolved.") % {"host": host}
        ) from error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise ContentRejected(
                _("The feed's host %(host)s is on a private or reserved network; Tertulia does not fetch it.")
                % {"host": host}
            )


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    transport: httpx.BaseTransport | None = None,
    max_bytes: int = MAX_FEED_BYTES,
) -> FetchResult:
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    # Redirects are followed by hand so each hop's address is checked before it is fetched.
    with httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False) as client:
        current = check_url(url)
        for _hop in range(MAX_REDIRECTS + 1):
            check_host(current)
            # Reading the body is inside: a feed can stall or drop halfway through, too.
            with reaching(_("the feed's server")), client.stream("GET", current, headers=headers) as response:
                if response.is_redirect and "location" in response.headers:
                    current = check_url(urljoin(current, response.headers["location"]))
                    continue
                return _read(current, response, max_bytes)
    raise TemporaryFailure(_("The feed redirected too many times."))


def _read(url: str, response: httpx.Response, max_bytes: int) -> FetchResult:
    status = response.status_code
    if status == 304:
        return FetchResult(url, None, "", response.headers.get("etag", ""), "")
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
    too_big = ContentRejected(
        _("The feed is larger than %(megabytes)d MB; Tertulia does not read it.")
        % {"megabytes": max_bytes // (1024 * 1024)}
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        chunks.append(chunk)
    return FetchResult(
        url=url,
        body=b"".join(chunks),
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag", ""),
        last_modified=response.headers.get("last-modified", ""),
    )
