"""The OpenAPI document is the contract: at a stable URL, complete, and every operation secured."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver

from tertulia.api.scopes import ALL_SCOPES, SCOPE_DESCRIPTION, SCOPE_PERMISSION, Scope
from tertulia.api.urls import api as ninja_api

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


def test_document_metadata(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Tertulia API"
    assert document["info"]["version"] == "1.0"
    assert "Bearer" in document["info"]["description"]
    scheme = document["components"]["securitySchemes"]["TokenAuth"]
    assert scheme == {"type": "http", "scheme": "bearer"}


def test_every_operation_is_documented_and_secured(document: dict[str, Any]) -> None:
    paths = document["paths"]
    documented = {
        (method.upper(), path) for path, ops in paths.items() for method in ops if method in METHODS
    }
    served = set()
    for path_view in ninja_api._get_bound_routers():
        for path, view in path_view.path_operations.items():
            for op in view.operations:
                for method in op.methods:
                    served.add((method, "/api/v1" + ("/" + path.lstrip("/"))))
    assert served and served == documented
    operation_ids = []
    for path, ops in paths.items():
        for method, op in ops.items():
            if method not in METHODS:
                continue
            assert op.get("security") == [{"TokenAuth": []}], (method, path)
            assert op.get("summary"), (method, path)
            operation_ids.append(op["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


def test_expected_endpoints_exist(document: dict[str, Any]) -> None:
    expected = {
        ("get", "/api/v1/me"),
        ("get", "/api/v1/organization"),
        ("get", "/api/v1/members"),
        ("patch", "/api/v1/members/{member_id}"),
        ("post", "/api/v1/brands"),
        ("patch", "/api/v1/brands/{brand_id}"),
        ("post", "/api/v1/brands/{brand_id}/channels"),
        ("put", "/api/v1/channels/{channel_id}/operators"),
        ("get", "/api/v1/contacts"),
        ("delete", "/api/v1/contacts/{contact_id}/handles/{handle_id}"),
        ("get", "/api/v1/audit"),
        ("post", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{token_id}"),
    }
    present = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert expected <= present
    params = {p["name"] for p in document["paths"]["/api/v1/contacts"]["get"]["parameters"]}
    assert {"q", "limit", "offset"} <= params


def test_no_interactive_docs_page() -> None:
    assert Client().get("/api/v1/docs").status_code == 404
    assert "openapi-view" not in {getattr(p, "name", None) for p in get_resolver().reverse_dict}


def test_every_scope_has_a_permission_and_description() -> None:
    assert set(SCOPE_PERMISSION) == set(Scope) == set(SCOPE_DESCRIPTION)
    assert len(ALL_SCOPES) == len(set(ALL_SCOPES))


def test_the_document_is_built_once_per_prefix_and_language() -> None:
    from django.utils import translation

    first = ninja_api.get_openapi_schema(path_params={})
    assert ninja_api.get_openapi_schema(path_params={}) is first
    with translation.override("es"):
        spanish = ninja_api.get_openapi_schema(path_params={})
    assert spanish is not first
    assert Client().get("/api/v1/openapi.json").json()["paths"].keys() == first["paths"].keys()


def _models_in(annotation: Any, found: set[type]) -> None:
    import typing

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, found)
        return
    for argument in typing.get_args(annotation):
        _models_in(argument, found)


def test_no_two_schemas_share_a_name() -> None:
    # The OpenAPI document names each schema by its class name: a second class with the same name
    # silently replaces the first one's description for every operation that uses it.
    found: set[type] = set()
    for _prefix, router in ninja_api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in (operation.response_models or {}).values():
                    _models_in(model, found)
                for model in operation.models:
                    _models_in(model, found)
    by_name: dict[str, set[str]] = {}
    for model in found:
        by_name.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    clashes = {name: places for name, places in by_name.items() if len(places) > 1}
    assert not clashes, clashes
