"""allauth's requests to identity providers go through the outbound guard (accounts/idp_http.py),
against a real HTTP server on a loopback address (refused unless the allow-list opens its port)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tertulia.accounts.adapters import SocialAccountAdapter
from tertulia.accounts.idp_http import MAX_ANSWER_BYTES, guarded_session
from tertulia.core.tests.outbound_server import Site


@pytest.fixture
def site() -> Iterator[Site]:
    with Site().running() as running:
        yield running


def test_allauth_gets_the_guarded_session() -> None:
    session = SocialAccountAdapter().get_requests_session()
    assert session.get_adapter("https://login.example/").__class__.__name__ == "GuardedAdapter"
    assert session.trust_env is False


def test_a_private_address_is_refused_until_the_operator_opens_it(site: Site, settings: Any) -> None:
    url = site.route("/.well-known/openid-configuration", json.dumps({"issuer": site.url}))
    settings.TERTULIA_OUTBOUND_ALLOW = ""
    with guarded_session() as session, pytest.raises(requests.ConnectionError):
        session.get(url)
    assert site.seen("/.well-known/openid-configuration") == []
    settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
    with guarded_session() as session:
        answer = session.get(url)
    assert answer.status_code == 200
    assert answer.json() == {"issuer": site.url}


def test_answers_come_back_as_requests_sees_them(site: Site, settings: Any) -> None:
    settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
    packed = site.route(
        "/jwks", gzip.compress(b'{"keys": []}'), headers={"Content-Encoding": "gzip", "X-Kid": "k1"}
    )
    token = site.route("/token", '{"access_token": "a"}', headers={"Content-Type": "application/json"})
    with guarded_session() as session:
        keys = session.get(packed)
        form = {"code": "c", "grant_type": "authorization_code"}
        posted = session.post(token, data=form, auth=("id", "secret"))
        failing = session.get(site.url + "/nothing-here")
    assert keys.json() == {"keys": []}
    assert keys.headers["x-kid"] == "k1"
    assert posted.json() == {"access_token": "a"}
    sent = site.seen("/token")[0]
    assert sent.body == b"code=c&grant_type=authorization_code"
    assert sent.headers["authorization"].startswith("Basic ")
    assert failing.status_code == 404
    with pytest.raises(requests.HTTPError):
        failing.raise_for_status()


def test_each_redirect_hop_is_checked(site: Site, settings: Any) -> None:
    settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
    hop = site.route("/hop", status=302, headers={"Location": "http://127.0.0.1:1/metadata"})
    with guarded_session() as session, pytest.raises(requests.ConnectionError):
        session.get(hop)


def test_an_oversized_answer_is_cut_off(site: Site, settings: Any) -> None:
    settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
    huge = site.route("/huge", b"x" * (MAX_ANSWER_BYTES + 1), chunked=True)
    with guarded_session() as session, pytest.raises(requests.ConnectionError, match="too large"):
        session.get(huge)
