"""The SSRF-safe fetcher against real HTTP(S) servers on loopback addresses.

Loopback is exactly what the policy refuses, so these servers are reached only through the
allow-list (TERTULIA_OUTBOUND_ALLOW), naming the port each test opens: whatever the test did not
open stays refused, which is what the redirect and rebinding tests rely on.
"""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import socket
import ssl
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tertulia.core import outbound
from tertulia.core.outbound.fetch import _Decoder
from tertulia.core.tests.outbound_server import Site

_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture
def site() -> Iterator[Site]:
    with Site().running() as running:
        yield running


@pytest.fixture
def other_site() -> Iterator[Site]:
    with Site().running() as running:
        yield running


@pytest.fixture
def allow(settings):
    def opening(*entries: str) -> None:
        settings.TERTULIA_OUTBOUND_ALLOW = ",".join(entries)

    return opening


@pytest.fixture
def names(monkeypatch):
    """Test-only DNS names: `names["a.example"] = ["127.0.0.1", ...]`, one answer per lookup (the last
    repeats); real lookups for every other name. `names.asked` lists the questions."""

    class Table(dict):
        asked: list[str]

    table = Table()
    table.asked = []

    def resolver(host, port, family=0, type=0, proto=0, flags=0):
        if host not in table:
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        table.asked.append(host)
        answers = table[host]
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return table


# --- reaching a server at all ----------------------------------------------------------------------


def test_a_local_server_is_refused_without_the_allow_list_and_served_with_it(site, allow):
    url = site.route("/page", b"hello")
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.fetch(url)
    assert refused.value.code == "address"
    allow(f"*:{site.port}")  # the port alone opens public addresses only
    for address in (url, f"http://localhost:{site.port}/page", f"http://2130706433:{site.port}/page"):
        with pytest.raises(outbound.OutboundRefused):
            outbound.fetch(address)
    assert site.requests == []  # nothing was ever sent
    allow(f"127.0.0.1:{site.port}")
    response = outbound.fetch(url)
    assert (response.status, response.body) == (200, b"hello")
    assert response.peer == f"127.0.0.1:{site.port}"


def test_a_name_resolving_to_loopback_is_served_only_when_its_name_is_allowed(site, allow):
    url = f"http://localhost:{site.port}/page"
    site.route("/page", b"by name")
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(url)
    allow(f"localhost:{site.port}")
    assert outbound.fetch(url).body == b"by name"
    assert site.seen("/page")[0].headers["host"] == f"localhost:{site.port}"


def test_the_older_connector_switch_opens_every_address(site):
    url = site.route("/page", b"legacy")
    assert outbound.fetch(url, policy=outbound.Policy(any_address=True)).body == b"legacy"


# --- redirects -----------------------------------------------------------------------------------


def test_a_redirect_to_a_port_the_allow_list_does_not_open_is_refused(site, other_site, allow):
    allow(f"127.0.0.1:{site.port}")
    secret = other_site.route("/secret", b"internal data")
    url = site.route("/go", status=302, headers={"Location": secret})
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(url)
    assert other_site.requests == []
    assert len(site.seen("/go")) == 1


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:{port}/page",
        "http://[::ffff:127.0.0.1]:{port}/page",
        "http://0x7f.1:{other}/page",
        "http://10.0.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:{port}/",
        "http://user:pass@127.0.0.1:{port}/page",
    ],
)
def test_every_redirect_hop_is_checked(site, other_site, allow, location):
    allow(f"127.0.0.1:{site.port}")
    site.route("/page", b"fine")
    target = location.format(port=site.port, other=other_site.port)
    url = site.route("/hop", status=302, headers={"Location": target})
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(url)
    assert site.seen("/page") == [] and other_site.requests == []


def test_a_redirect_from_an_allowed_public_looking_name_to_its_own_address_is_refused(site, allow, names):
    """The allow-list opens a name: the same server reached by its address is not opened by it."""
    names["news.example"] = ["127.0.0.1"]
    allow(f"news.example:{site.port}")
    site.route("/page", b"article")
    assert outbound.fetch(f"http://news.example:{site.port}/page").body == b"article"
    site.route("/moved", status=301, headers={"Location": f"http://127.0.0.1:{site.port}/page"})
    with pytest.raises(outbound.OutboundRefused):
        outbound.fetch(f"http://news.example:{site.port}/moved")
    assert len(site.seen("/page")) == 1


def test_redirects_are_followed_up_to_the_cap(site, allow):
    allow(f"127.0.0.1:{site.port}")
    site.route("/end", b"arrived")
    for hop in range(6):
        site.route(f"/r{hop}", status=302, headers={"Location": f"/r{hop + 1}" if hop < 5 else "/end"})
    response = outbound.fetch(site.url + "/r1", max_redirects=5)  # r1..r5 then /end: five hops
    assert response.body == b"arrived" and len(response.redirects) == 5
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.fetch(site.url + "/r0", max_redirects=5)  # six hops
    assert failed.value.code == "redirects"
    assert outbound.fetch(site.url + "/r0", max_redirects=0).status == 302  # not followed at all


def test_a_redirect_body_is_never_read(site, allow):
    allow(f"127.0.0.1:{site.port}")
    site.route("/end", b"ok")
    site.route("/big", b"x" * (8 * 1024 * 1024), status=302, headers={"Location": "/end"})
    assert outbound.fetch(site.url + "/big", max_bytes=1024).body == b"ok"


def test_post_redirect_semantics_and_credentials_left_behind(site, allow):
    allow(f"127.0.0.1:{site.port}", f"localhost:{site.port}")
    site.route("/echo", b"echo")
    site.route("/see-other", status=303, headers={"Location": "/echo"})
    site.route("/temporary", status=307, headers={"Location": "/echo"})
    site.route("/elsewhere", status=307, headers={"Location": f"http://localhost:{site.port}/echo"})
    outbound.fetch(site.url + "/see-other", method="POST", content=b"payload")
    outbound.fetch(site.url + "/temporary", method="POST", content=b"payload")
    secret = {"Authorization": "Bearer s3cret", "X-Signature": "sig"}
    outbound.fetch(
        site.url + "/elsewhere", method="POST", content=b"p", headers=secret, private_headers=["X-Signature"]
    )
    first, second, third = site.seen("/echo")
    assert (first.method, first.body) == ("GET", b"")
    assert (second.method, second.body) == ("POST", b"payload")
    assert "authorization" not in third.headers and "x-signature" not in third.headers
    assert site.seen("/elsewhere")[0].headers["authorization"] == "Bearer s3cret"


# --- DNS rebinding ---------------------------------------------------------------------------------


def test_dns_rebinding_cannot_move_the_connection(site, allow, names):
    """The name answers an allowed address first and another one after: only the first is used."""
    try:
        decoy_site = Site(host="127.0.0.2", port=site.port)
    except OSError:
        pytest.skip("this machine does not answer on 127.0.0.2")
    with decoy_site.running() as decoy:
        site.route("/page", b"the checked server")
        decoy.route("/page", b"the internal server")
        allow(f"127.0.0.1:{site.port}")
        names["rebind.example"] = ["127.0.0.1", "127.0.0.2"]
        url = f"http://rebind.example:{site.port}/page"
        # What a check-then-fetch client does: the check sees 127.0.0.1, httpx resolves again.
        policy = outbound.Policy.from_settings()
        outbound.checked_addresses("rebind.example", site.port, policy)
        with httpx.Client(trust_env=False) as naive:
            assert naive.get(url).content == b"the internal server"  # the attack works on it
        names["rebind.example"] = ["127.0.0.1", "127.0.0.2"]
        names.asked.clear()
        decoy.requests.clear()
        response = outbound.fetch(url)
        assert response.body == b"the checked server"
        assert names.asked == ["rebind.example"]
        assert decoy.requests == []


# --- TLS: the name stays the name -----------------------------------------------------------------


def _certificate_authority(tmp: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway CA and a certificate for `name`: (server context, client context trusting the CA)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tertulia test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain = tmp / "chain.pem"
    chain.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


def test_tls_keeps_the_name_for_sni_host_and_certificate(tmp_path, allow, names):
    server, client = _certificate_authority(tmp_path, "secure.example")
    with Site(tls=server).running() as secure:
        secure.route("/page", b"over tls")
        names["secure.example"] = ["127.0.0.1"]
        names["impostor.example"] = ["127.0.0.1"]
        allow(f"127.0.0.1:{secure.port}")
        response = outbound.fetch(f"https://secure.example:{secure.port}/page", verify=client)
        assert response.body == b"over tls"
        assert secure.server_names[-1] == "secure.example"
        assert secure.seen("/page")[0].headers["host"] == f"secure.example:{secure.port}"
        # Pinned to the same address, a name the certificate does not cover fails verification.
        with pytest.raises(outbound.OutboundFailed) as failed:
            outbound.fetch(f"https://impostor.example:{secure.port}/page", verify=client)
        assert failed.value.code == "unreachable"


# --- bodies --------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_cap_is_refused_or_cut(site, allow, chunked):
    allow(f"127.0.0.1:{site.port}")
    url = site.route("/huge", b"a" * (3 * 1024 * 1024), chunked=chunked)
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.fetch(url, max_bytes=1024 * 1024)
    assert failed.value.code == "too_large"
    cut = outbound.fetch(url, max_bytes=1000, truncate=True)
    assert (len(cut.body), cut.truncated) == (1000, True)


def test_a_gzip_bomb_is_stopped_at_the_cap(site, allow):
    allow(f"127.0.0.1:{site.port}")
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 128 * 1024
    url = site.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.fetch(url, max_bytes=1024 * 1024)
    assert failed.value.code == "too_large"
    cut = outbound.fetch(url, max_bytes=4096, truncate=True)
    assert (cut.body, cut.truncated) == (b"\0" * 4096, True)


def test_the_decoder_never_produces_more_than_asked():
    bomb = zlib.compress(b"\0" * (32 * 1024 * 1024), 9)
    decoder = _Decoder("deflate")
    assert len(decoder.feed(bomb, 1000)) == 1001  # one more than the room says "over"


def test_encodings(site, allow):
    allow(f"127.0.0.1:{site.port}")
    text = "¡Hola! ".encode() * 1000
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    routes = {
        "/gzip": (gzip.compress(text), "gzip"),
        "/zlib": (zlib.compress(text), "deflate"),
        "/raw": (raw_deflate.compress(text) + raw_deflate.flush(), "deflate"),
        "/plain": (text, "identity"),
    }
    for path, (body, encoding) in routes.items():
        site.route(path, body, headers={"Content-Encoding": encoding})
        assert outbound.fetch(site.url + path).body == text, path
    assert site.seen("/gzip")[0].headers["accept-encoding"] == "gzip, deflate"
    site.route("/br", b"\x0b\x02\x80hi\x03", headers={"Content-Encoding": "br"})
    site.route("/broken", b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    for path in ("/br", "/broken"):
        with pytest.raises(outbound.OutboundFailed) as failed:
            outbound.fetch(site.url + path)
        assert failed.value.code == "encoding"


def test_an_error_answer_is_returned_with_its_body_cut(site, allow):
    allow(f"127.0.0.1:{site.port}")
    url = site.route("/down", b"e" * (1024 * 1024), status=503)
    response = outbound.fetch(url)
    assert (response.status, response.ok, len(response.body), response.truncated) == (
        503,
        False,
        64 * 1024,
        True,
    )


def test_a_slow_trickle_runs_into_the_deadline(site, allow):
    allow(f"127.0.0.1:{site.port}")
    url = site.route("/slow", b"x" * 200, drip=0.05)
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.fetch(url, deadline=0.3)
    assert failed.value.code == "timeout"


def test_nothing_listening_is_unreachable(allow):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    allow(f"127.0.0.1:{port}")
    with pytest.raises(outbound.OutboundFailed) as failed:
        outbound.fetch(f"http://127.0.0.1:{port}/")
    assert failed.value.code == "unreachable"


def test_guarded_client_checks_every_request(site, allow):
    site.route("/page", b"x")
    with outbound.guarded_client() as client:
        with pytest.raises(outbound.OutboundRefused):
            client.get(site.url + "/page")
        allow(f"127.0.0.1:{site.port}")
    with outbound.guarded_client() as client:
        assert client.get(site.url + "/page").content == b"x"
    assert ipaddress.ip_address(site.host).is_loopback
