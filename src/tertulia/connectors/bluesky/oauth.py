"""atproto OAuth for the Bluesky connector: discovery, PAR with PKCE, DPoP, tokens, refresh.

The AT Protocol OAuth profile (https://atproto.com/specs/oauth) in brief:

- the client id is the URL of a client metadata document (served by Tertulia at
  `/oauth/bluesky/client-metadata.json`); for development on a loopback address,
  the special `http://localhost?redirect_uri=...&scope=...` client id needs no document;
- the account's authorization server is found from its PDS (or an entryway such as
  bsky.social): `/.well-known/oauth-protected-resource` names it, and its
  `/.well-known/oauth-authorization-server` gives the endpoints;
- the authorization request is pushed (PAR) with a PKCE S256 challenge, and every
  request to the authorization server and to the PDS carries a DPoP proof signed by a
  per-session ES256 key, with the server's nonce (`use_dpop_nonce` → retry once);
- tokens are DPoP-bound: a resource request sends `Authorization: DPoP <token>` and a
  proof with `ath`, the hash of the token.

The DPoP key of a sign-in must be the same at PAR and at the token request, but the
pending sign-in keeps only `state` and `code_verifier`. So the key is derived from the
code verifier and Django's SECRET_KEY (HMAC, then a P-256 scalar): the same on both
steps, unknowable to the authorization server (which sees the verifier at the token
request but not our secret), and kept as a JWK in the vault with the tokens afterwards.

Discovery is a chain of requests to hosts that whoever controls a handle or DID chooses (the
did:web host, the PDS, the authorization server and its endpoints): every request of this module
goes through the outbound policy (`tertulia.core.outbound`, docs/outbound.md), so none of them
can reach an internal address. `TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES` opens every address
(the reference network the tests run on 127.0.0.1); the operator's own PLC directory and handle
resolver, when configured, are allowed at their host and port.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from tertulia.connectors.base import AuthenticationFailed, ConnectorError, ContentRejected, TemporaryFailure
from tertulia.core.outbound import (
    GuardedTransport,
    OutboundFailed,
    OutboundRefused,
    Policy,
    guarded_client,
    parse_allow_list,
)

SCOPE = "atproto transition:generic"
METADATA_PATH = "/oauth/bluesky/client-metadata.json"
DEFAULT_PLC = "https://plc.directory"
DEFAULT_HANDLE_RESOLVER = "https://bsky.social"
TIMEOUT_SECONDS = 30.0
MAX_METADATA_BYTES = 64 * 1024
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})

# The order of a P-256 group: a private scalar lies in [1, N - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_challenge(code_verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return b64url(hashlib.sha256(code_verifier.encode("ascii")).digest())


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(32, "big")


# ---------------------------------------------------------------- DPoP


@dataclass(frozen=True)
class DPoPKey:
    """An ES256 (P-256) key pair that signs DPoP proofs (RFC 9449)."""

    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> DPoPKey:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def derive(cls, seed: str) -> DPoPKey:
        """The same key for the same seed (and SECRET_KEY); see the module's docstring."""
        digest = salted_hmac("tertulia.connectors.bluesky.dpop", seed, algorithm="sha512").digest()
        scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
        return cls(ec.derive_private_key(scalar, ec.SECP256R1()))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, str] | str) -> DPoPKey:
        data = json.loads(jwk) if isinstance(jwk, str) else jwk
        if data.get("kty") != "EC" or data.get("crv") != "P-256" or "d" not in data:
            raise AuthenticationFailed(_("This Bluesky session's key is unusable; reconnect the channel."))
        private = ec.derive_private_key(int.from_bytes(b64url_decode(data["d"]), "big"), ec.SECP256R1())
        return cls(private)

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(_int_bytes(numbers.x)),
            "y": b64url(_int_bytes(numbers.y)),
        }

    def private_jwk(self) -> dict[str, str]:
        private_value = self.private_key.private_numbers().private_value
        return {**self.public_jwk(), "d": b64url(_int_bytes(private_value))}

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (what a DPoP-bound token's `cnf.jkt` holds)."""
        jwk = self.public_jwk()
        canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"))
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def proof(self, method: str, url: str, nonce: str | None = None, access_token: str | None = None) -> str:
        """A DPoP proof JWT for one request: htm, htu (no query or fragment), iat, jti, nonce, ath."""
        parts = urlsplit(url)
        htu = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk()}
        claims: dict[str, Any] = {
            "jti": uuid.uuid4().hex,
            "htm": method.upper(),
            "htu": htu,
            "iat": int(time.time()),
        }
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["ath"] = b64url(hashlib.sha256(access_token.encode("ascii")).digest())
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        der = self.private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + b64url(_int_bytes(r) + _int_bytes(s))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _wants_nonce(response: httpx.Response) -> bool:
    """The server asks for (a fresh) nonce: RFC 9449 §8 (authorization server) and §9 (resource)."""
    if not response.headers.get("dpop-nonce"):
        return False
    if response.status_code == 401 and "use_dpop_nonce" in response.headers.get("www-authenticate", ""):
        return True
    if response.status_code == 400:
        try:
            return bool(response.json().get("error") == "use_dpop_nonce")
        except ValueError:
            return False
    return False


@dataclass
class NonceBook:
    """The last DPoP nonce each server gave (they rotate; a stale one costs one retry)."""

    by_origin: dict[str, str] = field(default_factory=dict)

    def get(self, url: str) -> str | None:
        return self.by_origin.get(_origin(url))

    def note(self, url: str, response: httpx.Response) -> None:
        nonce = response.headers.get("dpop-nonce")
        if nonce:
            self.by_origin[_origin(url)] = nonce


class DPoPTransport(httpx.BaseTransport):
    """Sends every request with a DPoP-bound access token and a fresh proof, for the SDK's client.

    The atproto SDK's `Request` passes its keyword arguments to `httpx.Client`, so this
    transport signs whatever the SDK sends, and retries once when the PDS asks for a nonce.
    The PDS is named by the account's DID document, which its owner writes: by default the
    requests go through the outbound policy (`pds_transport()`), never to an internal address.
    """

    def __init__(
        self,
        key: DPoPKey,
        access_token: str,
        nonces: NonceBook | None = None,
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self.key = key
        self.access_token = access_token
        self.nonces = nonces or NonceBook()
        self._inner = inner or pds_transport()

    def _signed(self, request: httpx.Request) -> httpx.Request:
        url = str(request.url)
        headers = httpx.Headers(request.headers)
        headers["Authorization"] = f"DPoP {self.access_token}"
        headers["DPoP"] = self.key.proof(request.method, url, self.nonces.get(url), self.access_token)
        return httpx.Request(request.method, request.url, headers=headers, content=request.content)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self._inner.handle_request(self._signed(request))
        self.nonces.note(str(request.url), response)
        if _wants_nonce(response):
            response.read()
            response.close()
            response = self._inner.handle_request(self._signed(request))
            self.nonces.note(str(request.url), response)
        return response

    def close(self) -> None:
        self._inner.close()


# ---------------------------------------------------------------- discovery


@dataclass(frozen=True)
class AuthorizationServer:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    par_endpoint: str


@dataclass(frozen=True)
class Discovered:
    server: AuthorizationServer
    login_hint: str = ""  # the handle, when a handle was typed
    did: str = ""  # known in advance when a handle was typed
    pds: str = ""  # the protected resource the discovery started from, if it was a PDS


def _configured_hosts() -> list[str]:
    """Allow-list entries (host:port) for the PLC directory and handle resolver the operator set:
    their own services, which may well be on a private network."""
    entries = []
    for name in ("TERTULIA_BLUESKY_PLC_URL", "TERTULIA_BLUESKY_HANDLE_RESOLVER"):
        configured = str(getattr(settings, name, "") or "")
        try:
            parts = urlsplit(configured)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            continue  # not an address: its requests fail the policy's own checks
        if parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            entries.append(f"{host}:{port}")
    return entries


def outbound_policy() -> Policy:
    """The shared outbound policy (docs/outbound.md), plus the operator's Bluesky services; the
    setting `TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES` opens every address and port (the tests)."""
    any_address = bool(getattr(settings, "TERTULIA_BLUESKY_ALLOW_PRIVATE_ADDRESSES", False))
    policy = Policy.from_settings(any_address=any_address)
    extra = _configured_hosts()
    if any_address or not extra:
        return policy
    raw = getattr(settings, "TERTULIA_OUTBOUND_ALLOW", "") or ""
    text = raw if isinstance(raw, str) else ",".join(str(item) for item in raw)
    try:
        return Policy(allow=parse_allow_list(",".join([text, *extra])))
    except ValueError:
        return policy  # a configured address the allow-list cannot name: the plain policy decides


def http_client() -> httpx.Client:
    """For every request to a server discovery found: checked and pinned, no redirects followed."""
    return guarded_client(outbound_policy(), timeout=TIMEOUT_SECONDS)


def pds_transport() -> GuardedTransport:
    """For a connected account's requests to its PDS (both kinds of session): checked and pinned.

    The SDK's client follows redirects itself: each hop comes back through this transport, so each
    is checked too.
    """
    return GuardedTransport(outbound_policy())


def address_refused(url: str, refused: Exception) -> ContentRejected:
    """The policy refused a server's address: nothing was sent, and trying again changes nothing."""
    try:
        server = urlsplit(url).netloc[:100] or url[:100]
    except ValueError:
        server = url[:100]
    # httpx's own message is not for a person (nor translated); the policy's are.
    reason = str(refused) if isinstance(refused, OutboundRefused) else _("That is not a valid web address.")
    return ContentRejected(
        _("This server's address is not allowed (%(server)s): %(reason)s")
        % {"server": server, "reason": reason}
    )


def _get_json(http: httpx.Client, url: str) -> dict[str, Any] | None:
    """A small JSON document, None when it is not there; network trouble is temporary."""
    try:
        response = http.get(url, headers={"Accept": "application/json"})
    except (OutboundRefused, httpx.InvalidURL) as refused:
        raise address_refused(url, refused) from refused
    except (httpx.HTTPError, OutboundFailed) as exc:
        raise TemporaryFailure(
            _("Bluesky could not be reached: %(error)s") % {"error": type(exc).__name__}
        ) from exc
    if response.status_code >= 500:
        raise TemporaryFailure(
            _("Bluesky answered with an error (%(status)d).") % {"status": response.status_code}
        )
    if response.status_code != 200 or len(response.content) > MAX_METADATA_BYTES:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def plc_url() -> str:
    return str(getattr(settings, "TERTULIA_BLUESKY_PLC_URL", DEFAULT_PLC)).rstrip("/")


def handle_resolver_url() -> str:
    return str(getattr(settings, "TERTULIA_BLUESKY_HANDLE_RESOLVER", DEFAULT_HANDLE_RESOLVER)).rstrip("/")


def pds_of(http: httpx.Client, did: str) -> str:
    """The PDS address from the DID document (did:plc from the PLC directory, did:web from its host)."""
    if did.startswith("did:plc:"):
        document = _get_json(http, f"{plc_url()}/{did}")
    elif did.startswith("did:web:"):
        document = _get_json(http, f"https://{did.removeprefix('did:web:')}/.well-known/did.json")
    else:
        document = None
    if document is None or document.get("id") != did:
        raise AuthenticationFailed(_("The Bluesky account %(did)s could not be found.") % {"did": did[:80]})
    for service in document.get("service") or []:
        if (
            isinstance(service, dict)
            and str(service.get("id", "")).endswith("#atproto_pds")
            and service.get("type") == "AtprotoPersonalDataServer"
            and isinstance(service.get("serviceEndpoint"), str)
        ):
            return str(service["serviceEndpoint"]).rstrip("/")
    raise AuthenticationFailed(_("The Bluesky account %(did)s has no server.") % {"did": did[:80]})


def issuer_of_resource(http: httpx.Client, resource: str) -> str | None:
    found = _get_json(http, f"{resource}/.well-known/oauth-protected-resource")
    servers = (found or {}).get("authorization_servers") or []
    return str(servers[0]).rstrip("/") if servers and isinstance(servers[0], str) else None


def _authorization_server(http: httpx.Client, issuer: str) -> AuthorizationServer:
    meta = _get_json(http, f"{issuer}/.well-known/oauth-authorization-server")
    if meta is None or str(meta.get("issuer", "")).rstrip("/") != issuer:
        raise ConnectorError(_("%(server)s does not offer atproto OAuth sign-in.") % {"server": issuer[:100]})
    try:
        server = AuthorizationServer(
            issuer=issuer,
            authorization_endpoint=str(meta["authorization_endpoint"]),
            token_endpoint=str(meta["token_endpoint"]),
            par_endpoint=str(meta["pushed_authorization_request_endpoint"]),
        )
    except KeyError:
        raise ConnectorError(
            _("%(server)s does not offer atproto OAuth sign-in.") % {"server": issuer[:100]}
        ) from None
    if "ES256" not in (meta.get("dpop_signing_alg_values_supported") or []):
        raise ConnectorError(_("%(server)s does not take ES256 DPoP proofs.") % {"server": issuer[:100]})
    return server


def discover(server_or_handle: str) -> Discovered:
    """The authorization server for what the person typed: a PDS or entryway URL, or a handle."""
    typed = (server_or_handle or DEFAULT_HANDLE_RESOLVER).strip().rstrip("/")
    with http_client() as http:
        if typed.startswith(("https://", "http://")):
            issuer = issuer_of_resource(http, typed)
            if issuer is not None:
                return Discovered(server=_authorization_server(http, issuer), pds=typed)
            # An entryway is its own authorization server.
            return Discovered(server=_authorization_server(http, typed))
        handle = typed.lstrip("@").lower()
        did = resolve_handle(http, handle)
        pds = pds_of(http, did)
        issuer = issuer_of_resource(http, pds)
        if issuer is None:
            raise ConnectorError(
                _("%(server)s does not offer atproto OAuth sign-in.") % {"server": pds[:100]}
            )
        return Discovered(server=_authorization_server(http, issuer), login_hint=handle, did=did, pds=pds)


def resolve_handle(http: httpx.Client, handle: str) -> str:
    found = _get_json(
        http,
        f"{handle_resolver_url()}/xrpc/com.atproto.identity.resolveHandle?{urlencode({'handle': handle})}",
    )
    did = str((found or {}).get("did") or "")
    if not did.startswith("did:"):
        raise AuthenticationFailed(
            _("The Bluesky handle %(handle)s was not found.") % {"handle": handle[:80]}
        )
    return did


# ---------------------------------------------------------------- client id and requests


def is_loopback(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and parts.netloc.rsplit(":", 1)[0] in LOOPBACK_HOSTS


def client_id_for(redirect_uri: str, registered: str = "") -> str:
    """Our client id: an operator's override, the loopback development id, or our metadata URL."""
    if registered:
        return registered
    if is_loopback(redirect_uri):
        return "http://localhost?" + urlencode({"redirect_uri": redirect_uri, "scope": SCOPE})
    return metadata_url(redirect_uri)


def metadata_url(redirect_uri: str) -> str:
    """Where our client metadata document is served, on the same origin as the redirect address."""
    parts = urlsplit(redirect_uri)
    return urlunsplit((parts.scheme, parts.netloc, METADATA_PATH, "", ""))


def client_metadata(client_id: str, redirect_uri: str, client_name: str = "Tertulia") -> dict[str, Any]:
    """The client metadata document (a public client: no secret, DPoP-bound tokens)."""
    parts = urlsplit(client_id)
    return {
        "client_id": client_id,
        "client_name": client_name,
        "client_uri": f"{parts.scheme}://{parts.netloc}",
        "application_type": "web",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": SCOPE,
        "redirect_uris": [redirect_uri],
        "token_endpoint_auth_method": "none",
        "dpop_bound_access_tokens": True,
    }


def dpop_post(
    http: httpx.Client, key: DPoPKey, url: str, form: Mapping[str, str], nonces: NonceBook
) -> httpx.Response:
    """A form POST to the authorization server with a DPoP proof, retried once with its nonce."""
    for _attempt in range(2):
        proof = key.proof("POST", url, nonces.get(url))
        try:
            response = http.post(url, data=dict(form), headers={"DPoP": proof, "Accept": "application/json"})
        except (OutboundRefused, httpx.InvalidURL) as refused:
            raise address_refused(url, refused) from refused
        except (httpx.HTTPError, OutboundFailed) as exc:
            raise TemporaryFailure(
                _("Bluesky could not be reached: %(error)s") % {"error": type(exc).__name__}
            ) from exc
        nonces.note(url, response)
        if not _wants_nonce(response):
            return response
    return response


def oauth_error(response: httpx.Response) -> ConnectorError:
    """What an authorization server's error answer means for the caller."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = str(body.get("error") or "") if isinstance(body, dict) else ""
    description = str(body.get("error_description") or "")[:200] if isinstance(body, dict) else ""
    if response.status_code >= 500 or response.status_code == 429:
        return TemporaryFailure(
            _("Bluesky's sign-in server is unavailable (%(status)d).") % {"status": response.status_code}
        )
    if code in ("invalid_grant", "invalid_token", "invalid_client", "unauthorized_client", "access_denied"):
        return AuthenticationFailed(
            _("Bluesky refused the sign-in (%(error)s): %(description)s")
            % {"error": code, "description": description}
        )
    return ConnectorError(
        _("Bluesky refused the sign-in (%(error)s): %(description)s")
        % {"error": code or response.status_code, "description": description}
    )
