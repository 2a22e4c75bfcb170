"""The spec server itself: it must reject what the spec rejects, or every other test proves nothing."""

from __future__ import annotations

import httpx
import pytest

from tertulia.connectors.mastodon.spec import SPEC_PATH
from tertulia.connectors.testing.spec_server import FixtureInvalid, SpecResponse, SpecServer, load_spec

AUTH = {"Authorization": "Bearer t"}


@pytest.fixture
def loose(spec):
    with SpecServer(spec, bracket_arrays=True) as running:
        yield running


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "why"),
    [
        ("POST", "/api/v1/statuses", {"json": {"status": "x", "visibility": "everyone"}}, "not valid"),
        ("POST", "/api/v1/statuses", {"json": {"visibility": "public"}}, "not valid"),
        ("GET", "/api/v1/notifications", {"params": {"limit": "many"}}, "limit"),
        ("GET", "/api/v1/notifications", {"params": {"types[]": "like"}}, "types"),
        ("GET", "/api/v1/notifications", {"params": {"since": "1"}}, "not in the spec"),
        ("POST", "/api/v1/accounts/5/blok", {}, "no operation"),
        (
            "POST",
            "/api/v2/media",
            {"files": {"thumbnail": ("t.png", b"x", "image/png")}},
            "'file' is a required",
        ),
        ("POST", "/api/v1/apps", {"json": {"client_name": "Tertulia"}}, "'redirect_uris' is a required"),
        ("POST", "/api/v1/apps", {"json": {"client_name": "T", "redirect_uris": "x"}}, "not of type 'array'"),
    ],
)
def test_invalid_requests_are_rejected_and_recorded(loose, method, path, kwargs, why):
    response = httpx.request(method, loose.url + path, headers=AUTH, **kwargs)
    assert response.status_code == 400
    [recorded] = loose.invalid
    assert why in (recorded.error or "")
    with pytest.raises(AssertionError):
        loose.assert_all_valid()


def test_missing_bearer_token_is_invalid(loose):
    assert httpx.post(loose.url + "/api/v1/statuses", json={"status": "x"}).status_code == 401
    assert "bearer" in (loose.invalid[0].error or "")


def test_unregistered_operation_is_501_not_invalid(loose):
    assert httpx.get(loose.url + "/api/v1/accounts/verify_credentials", headers=AUTH).status_code == 501
    assert not loose.invalid and len(loose.unhandled) == 1


def test_responses_outside_the_spec_are_recorded(loose):
    loose.on("getStatus", SpecResponse(body={"id": "1"}))
    assert httpx.get(loose.url + "/api/v1/statuses/1", headers=AUTH).status_code == 200
    assert loose.invalid_responses and "required" in loose.invalid_responses[0]


def test_fixtures_cannot_drift_from_the_spec(fixtures):
    for name in (
        "Status",
        "Notification",
        "Account",
        "CredentialAccount",
        "MediaAttachment",
        "Conversation",
        "Relationship",
        "Token",
        "CredentialApplication",
        "Error",
    ):
        fixtures.validate(name, fixtures.build(name))
    with pytest.raises(FixtureInvalid):
        fixtures.build("Status", visibility="everyone")
    with pytest.raises(FixtureInvalid):
        fixtures.build("Notification", type="like")


def test_status_body_patch_is_still_needed():
    """Upstream's oneOf rejects text + media; when this fails, drop `status_body_any_of`."""
    with SpecServer(load_spec(SPEC_PATH)) as strict:
        body = {"status": "caption", "media_ids": ["1"]}
        assert httpx.post(strict.url + "/api/v1/statuses", json=body, headers=AUTH).status_code == 400
