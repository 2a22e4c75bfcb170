"""Fixtures for API tests: two organizations, people in every role, and a JSON client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tertulia.api.actions import create_token
from tertulia.api.scopes import ALL_SCOPES
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member, create_organization
from tertulia.core.models import Organization, Role, User

SYSTEM = Actor.system("tests")


@dataclass
class Response:
    status: int
    body: Any
    headers: Any

    def __repr__(self) -> str:
        return f"<{self.status} {self.body!r}>"


class Api:
    """A JSON client for /api/v1/ that answers (status, parsed body)."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client()

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        **extra: Any,
    ) -> Response:
        headers: dict[str, Any] = {}
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        data: bytes | str = b""
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body)
        response = self.client.generic(
            method, f"/api/v1{path}", data=data, content_type=content_type, **headers, **extra
        )
        content = response.content
        if response.status_code == 204:
            assert not content
            return Response(204, None, response)
        assert response["Content-Type"].startswith("application/json"), (response.status_code, content[:300])
        return Response(response.status_code, json.loads(content) if content else None, response)

    def get(self, path: str, token: str | None = None, **kw: Any) -> Response:
        return self.call("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Response:
        return self.call("POST", path, token, body, **kw)

    def patch(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Response:
        return self.call("PATCH", path, token, body, **kw)

    def put(self, path: str, token: str | None = None, body: Any = None, **kw: Any) -> Response:
        return self.call("PUT", path, token, body, **kw)

    def delete(self, path: str, token: str | None = None, **kw: Any) -> Response:
        return self.call("DELETE", path, token, **kw)


@dataclass
class Tenant:
    org: Organization
    owner: User
    people: dict[str, User]

    def person(self, role: str) -> User:
        return self.people[role]


def _tenant(name: str) -> Tenant:
    slug = name.lower()
    owner = User.objects.create_user(f"owner@{slug}.test")
    org = create_organization(SYSTEM, name, owner)
    people = {Role.OWNER.value: owner}
    for role in Role:
        if role == Role.OWNER:
            continue
        user = User.objects.create_user(f"{role.value}@{slug}.test")
        add_member(SYSTEM, org, user, role)
        people[role.value] = user
    return Tenant(org=org, owner=owner, people=people)


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def tenant(db: None) -> Tenant:
    return _tenant("Acme")


@pytest.fixture
def other(db: None) -> Tenant:
    return _tenant("Rival")


TokenMaker = Callable[..., str]


@pytest.fixture
def make_token(db: None) -> TokenMaker:
    def make(user: User, org: Organization, scopes: Iterable[str] | None = None, **kw: Any) -> str:
        if scopes is None:
            from tertulia.api.scopes import allowed_scopes
            from tertulia.core.permissions import membership, permissions_of

            scopes = allowed_scopes(permissions_of(membership(user, org)))
        _token, plaintext = create_token(SYSTEM, user, org, kw.pop("name", "test"), scopes, **kw)
        return plaintext

    return make


@pytest.fixture
def owner_token(tenant: Tenant, make_token: TokenMaker) -> str:
    return make_token(tenant.owner, tenant.org, ALL_SCOPES)


@pytest.fixture
def other_token(other: Tenant, make_token: TokenMaker) -> str:
    return make_token(other.owner, other.org, ALL_SCOPES)
