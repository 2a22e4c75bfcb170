"""Bad and hostile input: always a JSON 4xx with a message, never a 500, never a silent truncation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client, override_settings

from tertulia.core.actions import brands as brand_actions
from tertulia.core.models import Brand, Contact, Membership

from .conftest import Api, Tenant

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "zero\u200bwidth\u200d\ufeffjoin",
    "\u202eright-to-left override\u202c and \u200fRLM",
    "emoji 👩🏽‍💻🇪🇸🔥 and combining e\u0301",
    "Robert'); DROP TABLE core_brand;--",
    "{{ 7*7 }} ${7*7} %s %(x)s",
    "line\nbreak\ttab\r\n",
    "   ",
]


def test_malformed_json_is_400(api: Api, tenant: Tenant, owner_token: str) -> None:
    for raw in ['{"name": ', "not json", b"\xff\xfe\x00", '{"name": "x"}}']:
        response = api.post("/brands", owner_token, raw=raw)
        assert response.status == 400, (raw, response)
        assert response.body["code"] == "malformed_json" and response.body["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": 123},
        {"name": None},
        {"name": ["a"]},
        {"name": {"a": 1}},
        {"name": "ok", "reach_threshold": "many"},
        {"name": "ok", "reach_threshold": -1},
        {"name": "ok", "reach_threshold": 10**30},
        {"name": "ok", "reach_threshold": 1.5},
        {"name": "ok", "slug": "not-allowed"},
        {"name": "ok", "organization": 2},
        {"name": ""},
        {"name": "x" * 121},
        {"name": "nul\x00byte"},
        {"name": "lone \ud800 surrogate"},
        [],
        "a string",
        42,
        None,
    ],
)
def test_invalid_bodies_are_422_with_field_errors(
    api: Api, tenant: Tenant, owner_token: str, body: object
) -> None:
    response = api.post("/brands", owner_token, raw=_dump(body))
    assert response.status == 422, (body, response)
    assert response.body["code"] == "validation_error"
    assert response.body["errors"] and all("loc" in e and "msg" in e for e in response.body["errors"])
    assert not Brand.objects.exists()


def _dump(body: object) -> str:
    import json

    return json.dumps(body)


def test_over_long_strings_are_refused_not_truncated(api: Api, tenant: Tenant, owner_token: str) -> None:
    response = api.post("/contacts", owner_token, {"display_name": "é" * 256})
    assert response.status == 422
    assert response.body["errors"][0]["loc"] == ["body", "payload", "display_name"]
    response = api.post("/contacts", owner_token, {"display_name": "é" * 255})
    assert response.status == 201
    assert Contact.objects.get().display_name == "é" * 255
    # Emoji count as characters, as the database counts them.
    assert api.post("/contacts", owner_token, {"display_name": "🔥" * 255}).status == 201
    assert api.post("/contacts", owner_token, {"display_name": "🔥" * 256}).status == 422
    response = api.post("/contacts", owner_token, {"display_name": "a", "notes": "n" * 20_001})
    assert response.status == 422


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_stored_verbatim(api: Api, tenant: Tenant, owner_token: str, text: str) -> None:
    response = api.post("/contacts", owner_token, {"display_name": text, "notes": text})
    assert response.status == 201, response
    assert response.body["display_name"] == text
    contact = Contact.objects.get(pk=response.body["id"])
    assert contact.display_name == text and contact.notes == text
    assert api.get(f"/contacts/{contact.pk}", owner_token).body["notes"] == text
    response = api.post("/brands", owner_token, {"name": text, "voice_guide": text})
    assert response.status == 201, response
    assert Brand.objects.get(pk=response.body["id"]).voice_guide == text


def test_hostile_query_strings(api: Api, tenant: Tenant, owner_token: str) -> None:
    api.post("/contacts", owner_token, {"display_name": "100% real_name\\"})
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    for q in [*HOSTILE, "%", "_", "\\", "x" * 200]:
        response = Client().get("/api/v1/contacts", {"q": q}, **auth)
        assert response.status_code == 200, (q, response.content[:200])
        # LIKE wildcards are matched literally.
        assert response.json()["count"] == (1 if q in {"%", "_", "\\"} else 0), q
    bad = Client().get("/api/v1/contacts", {"q": "x" * 201}, HTTP_AUTHORIZATION=f"Bearer {owner_token}")
    assert bad.status_code == 422
    nul = Client().get("/api/v1/contacts", {"q": "a\x00b"}, HTTP_AUTHORIZATION=f"Bearer {owner_token}")
    assert nul.status_code == 422


def test_patch_refuses_null_and_unknown_fields(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "B"}).body["id"]
    for body in [
        {"name": None},
        {"is_archived": None},
        {"slug": "x"},
        {"organization_id": 1},
        {"name": "x" * 121},
    ]:
        response = api.patch(f"/brands/{brand_id}", owner_token, body)
        assert response.status == 422, (body, response)
    assert api.patch(f"/brands/{brand_id}", owner_token, {}).status == 200
    assert Brand.objects.get(pk=brand_id).name == "B"


@pytest.mark.parametrize(
    "path",
    [
        "/brands/0",
        "/brands/-1",
        "/brands/abc",
        "/brands/99999999999999999999999",
        "/brands/1.5",
        "/brands/%00",
    ],
)
def test_bad_ids_are_4xx(api: Api, tenant: Tenant, owner_token: str, path: str) -> None:
    response = api.get(path, owner_token)
    assert response.status in {404, 422}, response


def test_missing_ids_are_404(api: Api, tenant: Tenant, owner_token: str) -> None:
    for path in ["/brands/999999", "/channels/999999", "/contacts/999999", "/members/999999"]:
        response = api.get(path, owner_token)
        assert response.status == 404 and response.body["code"] == "not_found"


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=-5", "offset=-1", "offset=99999999999999999999", "limit=abc"]
)
def test_bad_pagination_is_422(api: Api, tenant: Tenant, owner_token: str, query: str) -> None:
    assert api.get(f"/brands?{query}", owner_token).status == 422


def test_oversized_body_is_413(api: Api, tenant: Tenant, owner_token: str) -> None:
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = api.post("/contacts", owner_token, {"display_name": "a", "notes": "n" * 5000})
    assert response.status == 413
    assert response.body["code"] == "payload_too_large"
    assert not Contact.objects.exists()


def test_unknown_paths_and_methods_are_json(api: Api, tenant: Tenant, owner_token: str) -> None:
    for path in ["/", "/nope", "/brands/1/nope", "/brands/"]:
        response = api.get(path, owner_token)
        assert response.status == 404, (path, response)
    response = api.post("/nope", owner_token, {"a": 1})
    assert response.status == 404
    response = api.delete("/brands", owner_token)
    assert response.status == 405
    assert response.body["code"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_integrity_error_is_409_without_partial_writes(
    api: Api, tenant: Tenant, owner_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = brand_actions.create_brand

    def racing(*args: object, **kwargs: object) -> Brand:
        real(*args, **kwargs)  # type: ignore[arg-type]  # wraps the real handler
        raise IntegrityError("UNIQUE constraint failed: core_brand.slug")

    from django.db import transaction

    monkeypatch.setattr(brand_actions, "create_brand", transaction.atomic(racing))
    response = api.post("/brands", owner_token, {"name": "Race"})
    assert response.status == 409
    assert response.body["code"] == "conflict"
    assert "UNIQUE" not in response.body["detail"]
    assert not Brand.objects.filter(name="Race").exists()


def test_unexpected_errors_are_a_json_500_without_internals(
    api: Api,
    tenant: Tenant,
    owner_token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> Brand:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(brand_actions, "create_brand", broken)
    with caplog.at_level(logging.ERROR, logger="tertulia.api.errors"):
        response = api.post("/brands", owner_token, {"name": "Boom"})
    assert response.status == 500
    assert response.body["code"] == "server_error"
    assert "secret internal detail" not in str(response.body)
    assert any("secret internal detail" in (r.exc_text or "") for r in caplog.records)


def test_last_owner_conflict_message(api: Api, tenant: Tenant, owner_token: str) -> None:
    owner = Membership.objects.get(organization=tenant.org, user=tenant.owner)
    response = api.patch(f"/members/{owner.pk}", owner_token, {"role": "analyst"})
    assert response.status == 409
    assert "owner" in response.body["detail"]


def test_messages_follow_the_owners_language(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand_id = api.post("/brands", owner_token, {"name": "B"}).body["id"]
    body = {"name": "x", "website": "not a url"}
    english = api.post(f"/brands/{brand_id}/competitors", owner_token, body)
    assert english.status == 422 and "Enter a valid URL" in str(english.body["errors"])
    tenant.owner.language = "es"
    tenant.owner.save()
    spanish = api.post(f"/brands/{brand_id}/competitors", owner_token, body)
    assert spanish.status == 422 and "URL válida" in str(spanish.body["errors"])
