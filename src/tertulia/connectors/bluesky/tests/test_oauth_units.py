"""atproto OAuth pieces without a network: PKCE, DPoP proofs and keys, the nonce retry, client ids."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.test import Client
from django.urls import reverse

from tertulia.connectors.base import AuthenticationFailed, OAuthClient
from tertulia.connectors.bluesky import oauth
from tertulia.connectors.bluesky.connector import BlueskyConnector
from tertulia.connectors.signin import SignIn, sign_in_method, sign_in_methods


def _decode(jwt: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    header, claims, signature = jwt.split(".")
    return (
        json.loads(oauth.b64url_decode(header)),
        json.loads(oauth.b64url_decode(claims)),
        f"{header}.{claims}".encode(),
        oauth.b64url_decode(signature),
    )


def _verify_es256(jwk: dict[str, str], signed: bytes, signature: bytes) -> None:
    """Verify with nothing but the public JWK from the proof's header (raises InvalidSignature)."""
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(oauth.b64url_decode(jwk["x"]), "big"),
        int.from_bytes(oauth.b64url_decode(jwk["y"]), "big"),
        ec.SECP256R1(),
    ).public_key()
    assert len(signature) == 64  # JWS ES256: raw r || s, not DER
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, signed, ec.ECDSA(hashes.SHA256()))


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    assert (
        oauth.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_a_dpop_proof_carries_the_claims_and_verifies_with_its_public_jwk() -> None:
    key = oauth.DPoPKey.generate()
    proof = key.proof(
        "post", "https://pds.example/xrpc/com.atproto.repo.createRecord?x=1#f", "n-1", access_token="tok"
    )
    header, claims, signed, signature = _decode(proof)
    assert header == {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk()}
    assert "d" not in header["jwk"]  # never the private part
    assert claims["htm"] == "POST"
    assert claims["htu"] == "https://pds.example/xrpc/com.atproto.repo.createRecord"  # no query, no fragment
    assert claims["nonce"] == "n-1"
    assert claims["ath"] == oauth.b64url(hashlib.sha256(b"tok").digest())
    assert isinstance(claims["iat"], int) and claims["jti"]
    _verify_es256(header["jwk"], signed, signature)
    with pytest.raises(InvalidSignature):
        _verify_es256(header["jwk"], signed.replace(b".", b".x", 1), signature)
    with pytest.raises(InvalidSignature):
        _verify_es256(oauth.DPoPKey.generate().public_jwk(), signed, signature)


def test_proofs_are_unique_and_omit_what_is_not_given() -> None:
    key = oauth.DPoPKey.generate()
    first, second = (_decode(key.proof("GET", "https://as.example/token"))[1] for _ in range(2))
    assert first["jti"] != second["jti"]
    assert "nonce" not in first and "ath" not in first


def test_keys_derive_the_same_from_the_same_verifier_and_round_trip_as_jwk() -> None:
    one = oauth.DPoPKey.derive("verifier-a")
    assert one.private_jwk() == oauth.DPoPKey.derive("verifier-a").private_jwk()
    assert one.public_jwk() != oauth.DPoPKey.derive("verifier-b").public_jwk()
    back = oauth.DPoPKey.from_jwk(json.dumps(one.private_jwk()))
    assert back.public_jwk() == one.public_jwk()
    assert back.thumbprint() == one.thumbprint()
    with pytest.raises(Exception, match="reconnect"):
        oauth.DPoPKey.from_jwk(one.public_jwk())  # a public key cannot sign


def test_the_transport_binds_the_token_and_retries_once_with_the_servers_nonce() -> None:
    seen: list[httpx.Request] = []

    def pds(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        nonce = _decode(request.headers["DPoP"])[1].get("nonce")
        if nonce != "fresh":
            return httpx.Response(
                401,
                headers={"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": "fresh"},
                json={"error": "use_dpop_nonce"},
            )
        return httpx.Response(200, json={"ok": True}, headers={"DPoP-Nonce": "fresh"})

    key = oauth.DPoPKey.generate()
    transport = oauth.DPoPTransport(key, "access-1", inner=httpx.MockTransport(pds))
    with httpx.Client(transport=transport) as client:
        response = client.post("https://pds.example/xrpc/x.y.z", content=b'{"a":1}')
        assert response.status_code == 200
        assert len(seen) == 2
        assert seen[1].content == b'{"a":1}'  # the body is sent again whole
        for request in seen:
            assert request.headers["Authorization"] == "DPoP access-1"
            claims = _decode(request.headers["DPoP"])[1]
            assert claims["ath"] == oauth.b64url(hashlib.sha256(b"access-1").digest())
        client.get("https://pds.example/xrpc/a.b.c")  # the nonce is remembered: one request
        assert len(seen) == 3


def test_a_nonce_that_keeps_failing_is_not_retried_forever() -> None:
    calls: list[int] = []

    def stubborn(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(
            401, headers={"WWW-Authenticate": 'DPoP error="use_dpop_nonce"', "DPoP-Nonce": str(len(calls))}
        )

    transport = oauth.DPoPTransport(oauth.DPoPKey.generate(), "t", inner=httpx.MockTransport(stubborn))
    with httpx.Client(transport=transport) as client:
        assert client.get("https://pds.example/").status_code == 401
    assert len(calls) == 2


def test_client_ids_loopback_for_development_metadata_url_otherwise() -> None:
    loopback = oauth.client_id_for("http://127.0.0.1:8000/settings/channels/callback/")
    assert loopback.startswith("http://localhost?")
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fsettings%2Fchannels%2Fcallback%2F" in loopback
    assert "scope=atproto+transition%3Ageneric" in loopback
    assert (
        oauth.client_id_for("https://social.example.org/settings/channels/callback/")
        == "https://social.example.org/oauth/bluesky/client-metadata.json"
    )
    assert oauth.client_id_for("https://x.example/cb", registered="https://y.example/m.json") == (
        "https://y.example/m.json"
    )


def test_the_client_metadata_document_is_served_at_the_client_id(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["social.example.org"]
    response = Client().get(reverse("bluesky-client-metadata"), secure=True, HTTP_HOST="social.example.org")
    assert response.status_code == 200
    document = response.json()
    assert document["client_id"] == "https://social.example.org/oauth/bluesky/client-metadata.json"
    assert document["redirect_uris"] == ["https://social.example.org/settings/channels/callback/"]
    assert document["dpop_bound_access_tokens"] is True
    assert document["token_endpoint_auth_method"] == "none"
    assert "atproto" in document["scope"].split()
    assert set(document["grant_types"]) == {"authorization_code", "refresh_token"}


def test_bluesky_offers_oauth_and_app_passwords_and_defaults_to_app_passwords() -> None:
    assert sign_in_methods(BlueskyConnector) == (SignIn.OAUTH, SignIn.PASSWORD)
    assert sign_in_method(BlueskyConnector) == SignIn.PASSWORD


@pytest.mark.parametrize("issuer", ["", "https://elsewhere.example", "https://pds.example.evil"])
def test_a_callback_from_another_server_is_refused_before_the_code_is_spent(
    monkeypatch: pytest.MonkeyPatch, issuer: str
) -> None:
    server = oauth.AuthorizationServer(
        issuer="https://pds.example",
        authorization_endpoint="https://pds.example/oauth/authorize",
        token_endpoint="https://pds.example/oauth/token",
        par_endpoint="https://pds.example/oauth/par",
    )
    monkeypatch.setattr(oauth, "discover", lambda typed: oauth.Discovered(server=server))

    def no_http(*args: Any, **kwargs: Any) -> httpx.Response:
        raise AssertionError("the code must not be exchanged")

    monkeypatch.setattr(oauth, "dpop_post", no_http)
    client = OAuthClient(client_id="", base_url="https://pds.example")
    with pytest.raises(AuthenticationFailed):
        BlueskyConnector.complete_authorization(
            client, "http://127.0.0.1:8000/cb", "code", "v" * 64, issuer=issuer
        )
