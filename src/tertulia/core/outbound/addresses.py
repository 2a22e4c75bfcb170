"""Which addresses Tertulia may connect to when a person chose where (SSRF), and the operator's allow-list.

Pure functions, no Django: `tertulia.settings` validates `TERTULIA_OUTBOUND_ALLOW` with them at start-up.

The rule: an address is refused unless it is a global unicast address, on port 80 or 443. Python's
`is_global` is not enough on its own (it calls multicast, 6to4, NAT64 and IPv4-compatible addresses
global), so the ranges are listed here explicitly, with a reason each, and `is_global` is a final
catch-all. IPv6 forms that carry an IPv4 address are judged by what they can reach:

- IPv4-mapped (`::ffff:127.0.0.1`) and IPv4-compatible (`::127.0.0.1`): refused (a client that
  means an IPv4 address writes one);
- 6to4 (`2002::/16`): refused (deprecated, and the relay may deliver to any IPv4 address);
- NAT64, well-known prefix (`64:ff9b::/96`): refused when the IPv4 address it embeds is refused,
  allowed when it is public (that is how IPv6-only networks reach the IPv4 internet); the local-use
  prefix `64:ff9b:1::/48` is refused.

Host names written as numbers are IPv4 addresses, read as browsers read them (the WHATWG URL
standard): `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1.

The allow-list (`TERTULIA_OUTBOUND_ALLOW`, comma-separated) names what an operator really wants
reachable; see `parse_allow_list` and docs/outbound.md.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = frozenset({80, 443})

# (network, reason). The reason is a short English label for logs and error messages' detail.
_V4_REFUSED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "'this network' (0.0.0.0)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # 255.255.255.255 (broadcast) included
    )
)
_V6_REFUSED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("::/128", "unspecified (::)"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "IPv4-mapped"),
        ("::/96", "IPv4-compatible"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (Teredo)"),
        ("2001:db8::/32", "documentation"),
        ("2002::/16", "6to4"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def refusal(address: IPAddress) -> str:
    """Why `address` is not one Tertulia connects to on its own; "" if it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "scoped"
        if address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            inner = refusal(embedded)
            return f"NAT64 of a {inner} address" if inner else ""
        table = _V6_REFUSED
    else:
        table = _V4_REFUSED
    for network, reason in table:
        if address in network:
            return reason
    if not address.is_global:
        return "not global"
    return ""


# --- host names written as numbers (WHATWG URL standard, "IPv4 parser") ---------------------------

_NUMBER = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


def _ipv4_number(part: str) -> int | None:
    if part[:2].lower() == "0x":
        digits, radix = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, radix = part[1:], 8
    else:
        digits, radix = part, 10
    if not digits:
        return 0
    try:
        return int(digits, radix)
    except ValueError:
        return None


def numeric_host(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host name that ends in a number stands for (`0x7f.1` is 127.0.0.1).

    None when the host does not end in a number (a DNS name). ValueError when it does but is no
    valid address (`1.2.3.4.5`, `256.1.1.1`, `08.1.1.1`): browsers refuse those, and so do we.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not parts or not _NUMBER.match(parts[-1]):
        return None
    if len(parts) > 4:
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    numbers = [_ipv4_number(part) if part else None for part in parts]
    if any(number is None for number in numbers):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    values = [number for number in numbers if number is not None]
    if any(value > 255 for value in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise ValueError(f"{host!r} is not a valid IPv4 address")
    total = values[-1]
    for index, value in enumerate(values[:-1]):
        total += value * 256 ** (3 - index)
    return ipaddress.IPv4Address(total)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host spells directly (IPv6 in brackets or bare, IPv4 in any spelling)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(bare)
        except ValueError as error:
            raise ValueError(f"{host!r} is not a valid IPv6 address") from error
    return numeric_host(bare)


_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def normal_host_name(host: str) -> str:
    """A DNS name as compared and resolved: lower case, ASCII (IDNA), no trailing dot.

    ValueError for anything that is not a plain host name (percent signs, spaces, empty labels).
    """
    name = host.strip().lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or len(name) > 253:
        raise ValueError(f"{host!r} is not a host name")
    if not all(_HOST_LABEL.match(label) for label in name.split(".")):
        raise ValueError(f"{host!r} is not a host name")
    return name


# --- the operator's allow-list -------------------------------------------------------------------


@dataclass(frozen=True)
class AllowEntry:
    """One item of TERTULIA_OUTBOUND_ALLOW: addresses, a host name, or a port for public addresses."""

    text: str
    network: IPNetwork | None = None
    host: str = ""  # exact name; "" when `network` or `public_port`
    subdomains: bool = False  # `.corp.example`: that name's subdomains (not the name itself)
    port: int | None = None  # None: any port

    def allows_address(self, address: IPAddress, port: int) -> bool:
        return self.network is not None and address in self.network and self.port in (None, port)

    def allows_host(self, host: str, port: int) -> bool:
        if not self.host or self.port not in (None, port):
            return False
        return host.endswith("." + self.host) if self.subdomains else host == self.host


@dataclass(frozen=True)
class AllowList:
    entries: tuple[AllowEntry, ...] = ()
    public_ports: frozenset[int] = frozenset()  # from `*:8443` entries

    def allows_host(self, host: str, port: int) -> bool:
        return any(entry.allows_host(host, port) for entry in self.entries)

    def allows_address(self, address: IPAddress, port: int) -> bool:
        return any(entry.allows_address(address, port) for entry in self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries or self.public_ports)


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{entry!r}: {text!r} is not a port number (1-65535)")
    return int(text)


def _network(text: str, entry: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as error:
        raise ValueError(f"{entry!r} is not an address, a network (CIDR) or a host name") from error


def parse_entry(text: str) -> AllowEntry:
    """One allow-list item. The forms (docs/outbound.md):

    `10.0.0.0/8`, `192.168.1.20`, `fd00::/8`: these addresses, on any port;
    `192.168.1.20:8080`, `10.0.0.0/8:8080`, `[fd00::1]:8080`, `[fd00::/8]:8080`: on that port only;
    `intranet.example`, `intranet.example:8080`: whatever that name resolves to (any or that port);
    `.corp.example`, `.corp.example:8080`: the same for every name under corp.example;
    `*:8443`: port 8443 for public addresses (only 80 and 443 otherwise).
    """
    entry = text.strip()
    if not entry:
        raise ValueError("an empty entry")
    if entry.startswith("*:"):
        return AllowEntry(text=entry, port=_port(entry[2:], entry))
    if entry.startswith("["):
        inside, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{entry!r}: write an IPv6 address with a port as [fd00::1]:8080")
        port = _port(rest[1:], entry) if rest else None
        return AllowEntry(text=entry, network=_network(inside, entry), port=port)
    if entry.count(":") > 1:  # a bare IPv6 address or network: no port possible
        return AllowEntry(text=entry, network=_network(entry, entry))
    name, colon, port_text = entry.partition(":")
    port = _port(port_text, entry) if colon else None
    if re.fullmatch(r"[0-9.]+(?:/[0-9]+)?", name):
        return AllowEntry(text=entry, network=_network(name, entry), port=port)
    subdomains = name.startswith(".")
    try:
        host = normal_host_name(name[1:] if subdomains else name)
    except ValueError as error:
        raise ValueError(f"{entry!r} is not an address, a network (CIDR) or a host name") from error
    return AllowEntry(text=entry, host=host, subdomains=subdomains, port=port)


def parse_allow_list(raw: str | Iterable[str] | None) -> AllowList:
    """TERTULIA_OUTBOUND_ALLOW (a comma-separated string, or a list of entries) as an AllowList."""
    if raw is None:
        return AllowList()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    entries: list[AllowEntry] = []
    public_ports: set[int] = set()
    for item in items:
        if not item.strip():
            continue
        entry = parse_entry(item)
        if entry.network is None and not entry.host:
            public_ports.add(entry.port or 0)
        else:
            entries.append(entry)
    return AllowList(entries=tuple(entries), public_ports=frozenset(public_ports))


@functools.lru_cache(maxsize=16)
def cached_allow_list(raw: str) -> AllowList:
    return parse_allow_list(raw)


def validate_allow_setting(name: str, raw: str | None) -> str:
    """The setting's text if every entry parses; ConfigError (one line) naming the bad entry otherwise."""
    from tertulia.config import ConfigError

    text = (raw or "").strip()
    try:
        parse_allow_list(text)
    except ValueError as error:
        raise ConfigError(f"{name}: {error}") from error
    return text
