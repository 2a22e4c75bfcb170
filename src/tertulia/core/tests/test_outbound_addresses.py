"""The outbound policy's address rules, without any network: every refused range, every spelling."""

from __future__ import annotations

import ipaddress
import socket

import httpcore
import pytest

from tertulia.config import ConfigError
from tertulia.core import outbound
from tertulia.core.outbound.addresses import (
    literal_address,
    numeric_host,
    parse_allow_list,
    refusal,
    validate_allow_setting,
)

REFUSED = [
    # IPv4
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "127.0.0.1",
    "127.255.0.9",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.10",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",  # multicast
    "233.252.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    # IPv6
    "::",
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:8.8.8.8",  # mapped, even of a public address
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::1",  # local-use NAT64
    "100::1",
    "2001::1",  # Teredo
    "2001:db8::1",
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:808:808::1",  # 6to4 of a public address: refused all the same
    "3fff::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS's IPv6 metadata address
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "64:ff9b::808:808",
]


@pytest.mark.parametrize("address", REFUSED)
def test_every_reserved_range_is_refused(address):
    assert refusal(ipaddress.ip_address(address)) != ""


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address)) == ""


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "0x7f.1",
        "0x7F.0.0.1",
        "0177.0.0.1",
        "017700000001",
        "127.1",
        "127.0.1",
        "127.0.0.1.",
    ],
)
def test_numbers_that_spell_loopback(host):
    assert numeric_host(host) == ipaddress.IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    "host", ["1.2.3.4.5", "256.0.0.1", "08.0.0.1", "0xzz.1", "1..2", "4294967296", "1.2.3.example.4"]
)
def test_numbers_that_are_no_address_are_refused(host):
    with pytest.raises(ValueError):
        numeric_host(host)


@pytest.mark.parametrize(
    "host", ["example.com", "1.2.3.example", "xn--bcher-kva.de", "localhost", "0x7f.example"]
)
def test_names_are_not_numbers(host):
    assert numeric_host(host) is None


def test_bracketed_ipv6_literals():
    assert literal_address("[::ffff:127.0.0.1]") == ipaddress.IPv6Address("::ffff:7f00:1")
    with pytest.raises(ValueError):
        literal_address("[::zz]")


def _refused_code(url: str, policy: outbound.Policy | None = None) -> str:
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.check_url(url, policy or outbound.Policy())
    return refused.value.code


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://100.64.1.1/",
        "http://224.0.0.251/",
        "https://10.1.2.3/",
    ],
)
def test_address_literals_are_refused_before_anything_is_sent(url):
    assert _refused_code(url) == "address"


def test_octal_dotted_quads_are_refused_too():
    # httpx itself refuses leading zeros in a dotted quad; the WHATWG reading (127.0.0.1) would refuse it.
    assert _refused_code("http://0177.0.0.1/") in {"host", "address"}
    assert numeric_host("0177.0.0.1") == ipaddress.IPv4Address("127.0.0.1")


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com/", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("http://user:pass@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http://example.com:22/", "port"),
        ("http://example.com:6379/", "port"),
        ("https://example.com:8443/", "port"),
        ("http:///nohost", "host"),
        ("http://ex%41mple.com/", "host"),
        ("http://1.2.3.4.5/", "host"),
    ],
)
def test_urls_refused_for_what_they_say(url, code):
    assert _refused_code(url) == code


def test_ordinary_urls_pass_the_static_checks():
    target = outbound.check_url("https://Example.COM./path?q=1", outbound.Policy())
    assert (target.scheme, target.host, target.port, target.address) == ("https", "example.com", 443, None)
    assert outbound.check_url("http://bücher.de/", outbound.Policy()).host == "xn--bcher-kva.de"


# --- the allow-list ------------------------------------------------------------------------------


def test_allow_list_forms():
    allow = parse_allow_list(
        "10.0.0.0/8, 192.168.1.20:8080, [fd00::1]:8443, fd12::/16, [fd34::/16]:9000, intranet.example, "
        ".corp.example:8080, *:8443, 172.16.0.0/12:81"
    )
    ten = ipaddress.ip_address("10.9.8.7")
    assert allow.allows_address(ten, 80) and allow.allows_address(ten, 12345)
    assert allow.allows_address(ipaddress.ip_address("192.168.1.20"), 8080)
    assert not allow.allows_address(ipaddress.ip_address("192.168.1.20"), 80)
    assert allow.allows_address(ipaddress.ip_address("fd00::1"), 8443)
    assert allow.allows_address(ipaddress.ip_address("fd12::5"), 1)
    assert allow.allows_address(ipaddress.ip_address("fd34::5"), 9000)
    assert not allow.allows_address(ipaddress.ip_address("fd34::5"), 9001)
    assert allow.allows_address(ipaddress.ip_address("172.20.0.1"), 81)
    assert allow.allows_host("intranet.example", 4444)
    assert not allow.allows_host("other.example", 80)
    assert allow.allows_host("a.corp.example", 8080)
    assert not allow.allows_host("corp.example", 8080)  # subdomains only
    assert not allow.allows_host("a.corp.example", 80)
    assert allow.public_ports == frozenset({8443})


@pytest.mark.parametrize(
    "raw",
    [
        "10.0.0.0/33",
        "300.1.1.1",
        "host:0",
        "host:99999",
        "[fd00::1",
        "[fd00::1]x",
        "bad host",
        "a..b",
        "*:x",
        "%",
    ],
)
def test_bad_allow_list_entries_are_refused_at_start_up(raw):
    with pytest.raises(ValueError):
        parse_allow_list(raw)
    with pytest.raises(ConfigError, match="TERTULIA_OUTBOUND_ALLOW"):
        validate_allow_setting("TERTULIA_OUTBOUND_ALLOW", raw)


def test_the_allow_list_opens_exactly_what_it_names():
    policy = outbound.Policy(allow=parse_allow_list("127.0.0.1:8080, *:8443"))
    assert outbound.check_url("http://127.0.0.1:8080/", policy).address is not None
    assert _refused_code("http://127.0.0.1:8081/", policy) == "address"
    assert _refused_code("http://[::1]:8080/", policy) == "address"  # not the same address
    assert _refused_code("http://10.0.0.1:8080/", policy) == "address"
    assert outbound.check_url("https://example.com:8443/", policy).port == 8443
    assert (
        _refused_code("https://10.0.0.1:8443/", policy) == "address"
    )  # a public port opens no private address


def test_a_host_name_entry_allows_that_name_only(monkeypatch):
    def resolver(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.1.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    policy = outbound.Policy(allow=parse_allow_list("intranet.example"))
    assert outbound.checked_addresses("intranet.example", 80, policy) == [ipaddress.ip_address("10.1.1.1")]
    with pytest.raises(outbound.OutboundRefused):
        outbound.checked_addresses("other.example", 80, policy)


# --- resolution (a fake resolver: no DNS in tests) --------------------------------------------------


@pytest.fixture
def dns(monkeypatch):
    """A resolver answering from a table, counting the questions; other names fail."""
    table: dict[str, list[list[str]]] = {}
    asked: list[str] = []

    def resolver(host, port, family=0, type=0, proto=0, flags=0):
        asked.append(host)
        answers = table.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "not known")
        current = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in current
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return table, asked


@pytest.mark.parametrize(
    "answer",
    [
        ["127.0.0.1"],
        ["10.0.0.7"],
        ["169.254.169.254"],
        ["::1"],
        ["fe80::1%2"],
        ["::ffff:10.0.0.1"],
        ["93.184.216.34", "10.0.0.7"],
    ],
)
def test_names_resolving_to_refused_addresses_are_refused(dns, answer):
    table, _asked = dns
    table["sneaky.example"] = [answer]
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.checked_addresses("sneaky.example", 443, outbound.Policy())
    assert refused.value.code == "address"


def test_a_name_that_does_not_resolve_fails(dns):
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.checked_addresses("nowhere.example", 443, outbound.Policy())
    assert failed.value.code == "resolve"


def test_dns_rebinding_gets_no_second_lookup(dns, monkeypatch):
    """First answer public, every later one private: the connection goes to the first, checked one."""
    table, asked = dns
    table["rebind.example"] = [["93.184.216.34"], ["127.0.0.1"]]
    connected: list[str] = []

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        connected.append(host)
        raise httpcore.ConnectError("no network in tests")

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.fetch("http://rebind.example/")
    assert failed.value.code == "unreachable"
    assert asked == ["rebind.example"]  # resolved once, by the guard
    assert connected == ["93.184.216.34"]  # to the checked address, never a name


def test_refused_urls_never_reach_the_network(monkeypatch):
    attempts: list[str] = []

    def connect_tcp(self, host, *args, **kwargs):
        attempts.append(host)
        raise AssertionError("nothing may be connected to")

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    for url in [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/",
    ]:
        with pytest.raises(outbound.OutboundRefused):
            outbound.fetch(url)
    assert attempts == []
