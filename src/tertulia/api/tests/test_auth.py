"""Authentication, scopes and the role ceiling as requests see them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tertulia.api.models import ApiToken
from tertulia.core.actions.organizations import change_member_role, deactivate_member
from tertulia.core.models import Brand, Membership, Role

from .conftest import SYSTEM, Api, Tenant, TokenMaker

pytestmark = pytest.mark.django_db


def test_missing_token_is_401_json_with_challenge(api: Api, tenant: Tenant) -> None:
    response = api.get("/brands")
    assert response.status == 401
    assert response.body["code"] == "not_authenticated"
    assert response.body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token trt_x_y", "Bearer trt_abc_def", "Bearer garbage"],
)
def test_bad_credentials_are_401(tenant: Tenant, header: str) -> None:
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoked_and_expired_tokens_are_401(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    revoked = make_token(tenant.owner, tenant.org, ["brands:read"])
    ApiToken.objects.filter(prefix=revoked.split("_")[1]).update(revoked_at=timezone.now())
    response = api.get("/brands", revoked)
    assert response.status == 401 and "revoked" in response.body["detail"]

    expired = make_token(
        tenant.owner, tenant.org, ["brands:read"], expires_at=timezone.now() + timedelta(days=1)
    )
    ApiToken.objects.filter(prefix=expired.split("_")[1]).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    response = api.get("/brands", expired)
    assert response.status == 401 and "expired" in response.body["detail"]


def test_session_cookie_alone_does_not_authenticate(tenant: Tenant) -> None:
    client = Client()
    client.force_login(tenant.owner)
    api = Api(client)
    assert api.get("/me").status == 401
    assert api.post("/brands", body={"name": "Forged"}).status == 401
    assert not Brand.objects.filter(name="Forged").exists()


def test_bearer_writes_need_no_csrf_token(tenant: Tenant, owner_token: str) -> None:
    api = Api(Client(enforce_csrf_checks=True))
    response = api.post("/brands", owner_token, {"name": "Nueva"})
    assert response.status == 201, response


def test_read_only_token_cannot_write(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    token = make_token(tenant.owner, tenant.org, ["brands:read", "contacts:read", "channels:read"])
    assert api.get("/brands", token).status == 200
    for method, path, body in [
        ("POST", "/brands", {"name": "X"}),
        ("POST", "/contacts", {"display_name": "X"}),
        ("GET", "/audit", None),
        ("GET", "/members", None),
        ("POST", "/tokens", {"name": "more", "scopes": ["brands:read"]}),
    ]:
        response = api.call(method, path, token, body)
        assert response.status == 403, (method, path, response)
        assert response.body["code"] == "missing_scope"
    assert not Brand.objects.filter(name="X").exists()


def test_lowering_a_role_takes_effect_on_existing_tokens(
    api: Api, tenant: Tenant, make_token: TokenMaker
) -> None:
    manager = tenant.person(Role.BRAND_MANAGER)
    token = make_token(manager, tenant.org, ["brands:read", "brands:write"])
    assert api.post("/brands", token, {"name": "Before"}).status == 201
    change_member_role(SYSTEM, Membership.objects.get(user=manager, organization=tenant.org), Role.ANALYST)
    response = api.post("/brands", token, {"name": "After"})
    assert response.status == 403
    assert response.body["code"] == "permission_denied"
    assert not Brand.objects.filter(name="After").exists()
    # Reading is still within the analyst's role.
    assert api.get("/brands", token).status == 200


def test_deactivation_takes_effect_at_once(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    cm = tenant.person(Role.COMMUNITY_MANAGER)
    token = make_token(cm, tenant.org, ["brands:read"])
    assert api.get("/me", token).status == 200
    deactivate_member(SYSTEM, Membership.objects.get(user=cm, organization=tenant.org))
    assert api.get("/me", token).status == 401


def test_tokens_created_over_the_api_cannot_escalate(
    api: Api, tenant: Tenant, make_token: TokenMaker
) -> None:
    token = make_token(tenant.owner, tenant.org, ["tokens:write", "brands:read"])
    response = api.post("/tokens", token, {"name": "wider", "scopes": ["brands:read", "brands:write"]})
    assert response.status == 403 and response.body["code"] == "scope_not_allowed"

    analyst = tenant.person(Role.ANALYST)
    analyst_token = make_token(analyst, tenant.org, ["tokens:write", "brands:read"])
    response = api.post("/tokens", analyst_token, {"name": "narrow", "scopes": ["brands:read"]})
    assert response.status == 201

    short = make_token(
        tenant.owner,
        tenant.org,
        ["tokens:write", "brands:read"],
        expires_at=timezone.now() + timedelta(days=1),
    )
    response = api.post("/tokens", short, {"name": "forever", "scopes": ["brands:read"]})
    assert response.status == 403
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    assert (
        api.post("/tokens", short, {"name": "ok", "scopes": ["brands:read"], "expires_at": later}).status
        == 201
    )


def test_role_ceiling_over_the_api(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    # An analyst's token cannot carry brands:write even if the request asks for it.
    analyst = tenant.person(Role.ANALYST)
    token = make_token(analyst, tenant.org, ["tokens:write", "brands:read"])
    response = api.post("/tokens", token, {"name": "x", "scopes": ["tokens:write"]})
    assert response.status == 201
    # ...and a request naming a scope the role lacks is refused even with a matching token scope.
    response = api.post("/brands", token, {"name": "No"})
    assert response.status == 403
