"""Two fake networks for testing sign-in flows: one with app passwords, one with OAuth and PKCE."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tertulia.connectors import registry
from tertulia.connectors.base import (
    AccountInfo,
    AuthenticationFailed,
    Capability,
    ConnectedAccount,
    Connector,
    OAuthClient,
)

APP_PASSWORD = "abcd-efgh-ijkl-mnop"


class PasswordNet(Connector):
    network = "passwordnet"
    display_name = "PasswordNet"
    capabilities = frozenset({Capability.READ_MENTIONS})

    @classmethod
    def connect_with_password(cls, handle: str, password: str, base_url: str = "") -> ConnectedAccount:
        if password != APP_PASSWORD:
            raise AuthenticationFailed("Invalid identifier or password")
        return ConnectedAccount(
            AccountInfo(f"did:{handle}", handle, handle.title()), {"session": f"jwt-{handle}"}
        )


class OAuthNet(Connector):
    network = "oauthnet"
    display_name = "OAuthNet"
    capabilities = frozenset({Capability.PUBLISH_TEXT})
    challenges: dict[str, str] = {}

    @classmethod
    def authorization_url(cls, client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        )
        cls.challenges[state] = challenge
        return f"https://auth.example/authorize?client_id={client.client_id}&state={state}&code_challenge={challenge}"

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        )
        if code != "good" or digest not in cls.challenges.values():
            raise AuthenticationFailed("invalid_grant")
        return ConnectedAccount(AccountInfo("u-77", "brand_account", "Brand"), {"access_token": "at-secret"})


class MultiNet(OAuthNet):
    """A login that administers three accounts (as a Facebook user with three Pages)."""

    network = "multinet"
    display_name = "MultiNet"

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        accounts = [
            ConnectedAccount(
                AccountInfo(f"page-{n}", f"pagina{n}", f"Página {n}"), {"page_token": f"pt-secret-{n}"}
            )
            for n in (1, 2, 3)
        ]
        return ConnectedAccount(accounts[0].info, accounts[0].credentials, alternatives=accounts[1:])


@pytest.fixture
def fake_networks(monkeypatch):
    monkeypatch.setitem(
        registry.CONNECTORS, "passwordnet", "tertulia.connectors.tests.fake_networks.PasswordNet"
    )
    monkeypatch.setitem(registry.CONNECTORS, "oauthnet", "tertulia.connectors.tests.fake_networks.OAuthNet")
    monkeypatch.setitem(registry.CONNECTORS, "multinet", "tertulia.connectors.tests.fake_networks.MultiNet")
