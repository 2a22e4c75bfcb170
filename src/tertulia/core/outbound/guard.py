"""The policy, and an httpx transport that enforces it on every connection it opens.

`GuardedTransport` checks each request's URL (scheme, no user name or password, a host, the port)
and hands httpcore a network backend, `GuardedBackend`, that is the only place a host name is
resolved: it resolves once, checks every address it got, and connects to one of exactly those
addresses. httpx never looks the name up again, so a DNS server that answers with a public address
for the check and a private one for the connection (DNS rebinding) has no second answer to give.
The URL keeps its host name, so the Host header, TLS's SNI and the certificate check are the
name's, as without the guard.

Redirects are requests too: whoever follows them (`fetch.fetch` does, by hand) sends each hop
through the same transport, so each hop is checked the same way.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from tertulia.core.outbound.addresses import (
    DEFAULT_PORTS,
    AllowList,
    IPAddress,
    cached_allow_list,
    literal_address,
    normal_host_name,
    refusal,
)
from tertulia.core.outbound.errors import OutboundFailed, OutboundRefused

logger = logging.getLogger("tertulia.outbound")

SCHEMES = frozenset({"http", "https"})
MAX_ADDRESSES_TRIED = 4  # a name with many addresses: try a few, not all


@dataclass(frozen=True)
class Policy:
    """What may be reached: public addresses on ports 80 and 443, plus what `allow` names.

    `any_address` is for the older per-connector switches (`TERTULIA_FEEDS_ALLOW_PRIVATE_ADDRESSES`,
    `TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES`): every address and port, still http(s) only, still
    resolved once and pinned.
    """

    allow: AllowList = field(default_factory=AllowList)
    any_address: bool = False

    @classmethod
    def from_settings(cls, *, any_address: bool = False) -> Policy:
        raw = getattr(settings, "TERTULIA_OUTBOUND_ALLOW", "") or ""
        text = raw if isinstance(raw, str) else ",".join(str(item) for item in raw)
        return cls(allow=cached_allow_list(text), any_address=any_address)

    def port_possible(self, host: str, port: int) -> bool:
        """Whether anything could allow `port` (checked before resolving, to refuse early)."""
        if self.any_address or port in DEFAULT_PORTS or port in self.allow.public_ports:
            return True
        return any(entry.port in (None, port) for entry in self.allow.entries)

    def address_refusal(self, host: str, address: IPAddress, port: int) -> str:
        """Why a connection to `address`:`port` (for `host`) is refused; "" when it is allowed."""
        if self.any_address or self.allow.allows_host(host, port) or self.allow.allows_address(address, port):
            return ""
        reason = refusal(address)
        if reason:
            return reason
        if port not in DEFAULT_PORTS and port not in self.allow.public_ports:
            return f"port {port}"
        return ""


@dataclass(frozen=True)
class Target:
    """A URL that passed the checks that need no DNS."""

    scheme: str
    host: str  # a normalized DNS name, or an address's canonical text
    port: int
    address: IPAddress | None  # the host is an address literal


def host_key(raw_host: str | bytes) -> tuple[str, IPAddress | None]:
    """(normalized host, its address if it is one); ValueError for a host that is neither."""
    text = raw_host.decode("ascii") if isinstance(raw_host, bytes) else raw_host
    address = literal_address(text)
    if address is not None:
        return str(address), address
    return normal_host_name(text), None


def check_url(url: str | httpx.URL, policy: Policy) -> Target:
    """Refuse, before any DNS or connection, what the policy forbids in the URL itself."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise OutboundRefused(_("That is not a valid web address."), code="host") from error
    scheme = parsed.scheme.lower()
    if scheme not in SCHEMES:
        raise OutboundRefused(
            _("Only http:// and https:// addresses can be fetched."), code="scheme", detail=scheme[:20]
        )
    if parsed.userinfo:
        raise OutboundRefused(
            _("A web address must not contain a user name or password."), code="credentials"
        )
    if not parsed.raw_host:
        raise OutboundRefused(_("The web address has no host name."), code="host")
    try:
        host, address = host_key(parsed.raw_host)
    except (ValueError, UnicodeError) as error:
        raise OutboundRefused(_("The web address has no valid host name."), code="host") from error
    port = parsed.port or (443 if scheme == "https" else 80)
    if address is not None:
        reason = policy.address_refusal(host, address, port)
        if reason:
            raise _refused(host, port, address, reason)
    elif not policy.port_possible(host, port):
        raise _refused(host, port, None, f"port {port}")
    return Target(scheme=scheme, host=host, port=port, address=address)


def _refused(host: str, port: int, address: IPAddress | None, reason: str) -> OutboundRefused:
    _log_refusal(host, port, reason)
    if reason.startswith("port "):
        return OutboundRefused(
            _("Tertulia connects to ports 80 and 443 only; %(port)d is not allowed.") % {"port": port},
            code="port",
            detail=f"{host}:{port}",
        )
    return OutboundRefused(
        _("%(host)s is on a private or reserved network; Tertulia does not connect to it.") % {"host": host},
        code="address",
        detail=f"{host} -> {address} ({reason})",
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, without duplicates."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise OutboundFailed(
            _("%(host)s could not be resolved.") % {"host": host}, code="resolve", detail=host
        ) from error
    addresses: list[IPAddress] = []
    for info in found:
        try:
            # A scope ("fe80::1%eth0") is dropped: link-local addresses are refused anyway.
            parsed = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        except ValueError:
            continue
        if parsed not in addresses:
            addresses.append(parsed)
    if not addresses:
        raise OutboundFailed(
            _("%(host)s could not be resolved.") % {"host": host}, code="resolve", detail=host
        )
    return addresses


def checked_addresses(raw_host: str | bytes, port: int, policy: Policy) -> list[IPAddress]:
    """The addresses to connect to for `raw_host`:`port`, every one of them allowed.

    One refused address refuses the host: a name that points at both a public and a private
    address is not one to trust with either.
    """
    try:
        host, address = host_key(raw_host)
    except (ValueError, UnicodeError) as error:
        raise OutboundRefused(_("The web address has no valid host name."), code="host") from error
    addresses = [address] if address is not None else resolve(host, port)
    for candidate in addresses:
        reason = policy.address_refusal(host, candidate, port)
        if reason:
            raise _refused(host, port, candidate, reason)
    return addresses[:MAX_ADDRESSES_TRIED]


def _log_refusal(host: str, port: int, reason: str) -> None:
    # The host and port only: paths and query strings may carry tokens.
    shown = f"[{host}]" if ":" in host else host
    logger.warning("outbound request to %s:%s refused: %s", shown, port, reason)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend, resolving and checking every host before connecting to it."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, self.policy)
        failure: Exception | None = None
        for address in addresses:
            try:
                # An address literal: create_connection does no DNS lookup for it.
                return self._plain.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused(_("Only http:// and https:// addresses can be fetched."), code="scheme")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying context (certifi's authorities), built once: loading them is not free."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport that checks every request's URL and connects only to checked addresses.

    No proxy from the environment is used (a proxy would do its own DNS); `verify` is httpx's (an
    `ssl.SSLContext` in tests that run their own certificate authority).
    """

    def __init__(
        self, policy: Policy, *, verify: ssl.SSLContext | bool = True, max_connections: int = 10
    ) -> None:
        # httpx's own pool is replaced just below (its context unverified: it is never used).
        super().__init__(verify=False, trust_env=False, retries=0)
        self.policy = policy
        self._pool = httpcore.ConnectionPool(
            ssl_context=_default_ssl_context() if verify is True else httpx.create_ssl_context(verify=verify),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            retries=0,
            network_backend=GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_url(request.url, self.policy)
        return super().handle_request(request)


def guarded_client(
    policy: Policy | None = None,
    *,
    verify: ssl.SSLContext | bool = True,
    **kwargs: object,
) -> httpx.Client:
    """An httpx.Client whose every request goes through `GuardedTransport` (no redirects followed:
    use `fetch.fetch` to follow them with a cap and unread bodies, or follow them yourself)."""
    transport = GuardedTransport(policy or Policy.from_settings(), verify=verify)
    kwargs.setdefault("follow_redirects", False)
    return httpx.Client(transport=transport, trust_env=False, **kwargs)  # type: ignore[arg-type]  # httpx's keyword arguments
