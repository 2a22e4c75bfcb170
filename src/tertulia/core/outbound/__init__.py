"""SSRF-safe HTTP for every request Tertulia sends to an address a person typed.

Link previews, outgoing webhooks, RSS/Atom feeds and Mastodon instances all go through here:

    from tertulia.core import outbound

    response = outbound.fetch("https://example.com/", max_bytes=512 * 1024, truncate=True)
    with outbound.guarded_client() as client:  # an httpx.Client, for code that needs one
        ...

The policy (docs/outbound.md): http and https only, no user name or password in the URL, public
addresses only on ports 80 and 443, each host resolved once and connected to at exactly the
checked address, redirects checked hop by hop, bodies capped, time bounded. The operator's
allow-list, `TERTULIA_OUTBOUND_ALLOW`, opens private addresses, host names or ports on purpose.
"""

from tertulia.core.outbound.addresses import AllowList, parse_allow_list, refusal
from tertulia.core.outbound.errors import OutboundError, OutboundFailed, OutboundRefused
from tertulia.core.outbound.fetch import DEFAULT_MAX_BYTES, MAX_REDIRECTS, USER_AGENT, Response, fetch
from tertulia.core.outbound.guard import (
    GuardedTransport,
    Policy,
    Target,
    check_url,
    checked_addresses,
    guarded_client,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_REDIRECTS",
    "USER_AGENT",
    "AllowList",
    "GuardedTransport",
    "OutboundError",
    "OutboundFailed",
    "OutboundRefused",
    "Policy",
    "Response",
    "Target",
    "check_url",
    "checked_addresses",
    "fetch",
    "guarded_client",
    "parse_allow_list",
    "refusal",
]
