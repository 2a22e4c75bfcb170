"""The listening endpoints and the house rules: tenancy, scopes and roles, hostile input, the contract."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from tertulia.api.tests.conftest import Api, Tenant, TokenMaker
from tertulia.api.tests.listening_helpers import *  # noqa: F403  # the fixtures
from tertulia.api.tests.listening_helpers import item, listen
from tertulia.api.tests.test_errors import HOSTILE
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import change_member_role
from tertulia.core.models import AuditEntry, Brand, Membership, Role
from tertulia.core.permissions import ROLE_PERMISSIONS, Perm
from tertulia.listening.actions.alerts import create_alert
from tertulia.listening.actions.queries import create_query
from tertulia.listening.actions.sources import add_source
from tertulia.listening.models import ListeningQuery, ListeningSource, Mention, QueryAlert, QueryMatch

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("tests")


def _world(tenant: Tenant, slug: str) -> dict[str, Any]:
    """A brand with a query, what it found, an alert on it and a source."""
    brand = Brand.objects.create(
        organization=tenant.org, name=f"{tenant.org.name} escucha", slug=f"{slug}-esc"
    )
    query = create_query(SYSTEM, brand, name="Suya", text="suyo")
    listen(tenant.org.pk, [item(f"{slug}-1", "esto es suyo", timezone.now() - timedelta(hours=2))])
    alert = create_alert(SYSTEM, query, kind="volume", threshold=5, recipients=[tenant.owner])
    source = add_source(SYSTEM, tenant.org, kind="feed", url=f"https://{slug}.example.com/feed")
    return {"brand": brand, "query": query, "alert": alert, "source": source}


def _requests(w: dict[str, Any], reads: bool = True, writes: bool = True) -> list[tuple[str, str, Any]]:
    q, b, a, s = w["query"].pk, w["brand"].pk, w["alert"].pk, w["source"].pk
    found: list[tuple[str, str, Any]] = []
    if reads:
        found += [
            ("GET", f"/listening/queries/{q}", None),
            ("GET", f"/listening/queries/{q}/mentions", None),
            ("GET", f"/listening/queries/{q}/insight", None),
            ("GET", f"/listening/queries/{q}/alerts", None),
            ("GET", f"/listening/brands/{b}/share-of-voice", None),
        ]
    if writes:
        found += [
            ("POST", "/listening/queries", {"brand_id": b, "name": "Robada", "text": "robado"}),
            ("PATCH", f"/listening/queries/{q}", {"version": 1, "text": "robado"}),
            ("POST", f"/listening/queries/{q}/backtest", {"days": 7}),
            ("POST", f"/listening/queries/{q}/backfill", {"days": 7}),
            ("POST", f"/listening/queries/{q}/alerts", {"threshold": 1, "recipients": [w["owner"]]}),
            ("PATCH", f"/listening/sources/{s}", {"is_active": False}),
            ("DELETE", f"/listening/alerts/{a}", None),
            ("DELETE", f"/listening/sources/{s}", None),
            ("DELETE", f"/listening/queries/{q}", None),
        ]
    return found


def _world_of(tenant: Tenant, slug: str) -> dict[str, Any]:
    return {**_world(tenant, slug), "owner": tenant.owner.pk}


def test_every_listening_endpoint_is_404_for_another_organization(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str
) -> None:
    theirs = _world_of(other, "rival")
    audit_before = AuditEntry.objects.filter(organization=other.org).count()
    for method, path, body in _requests(theirs):
        response = api.call(method, path, owner_token, body)
        assert response.status == 404, (method, path, response)
        assert response.body["code"] == "not_found"
    query = ListeningQuery.objects.get(pk=theirs["query"].pk)
    assert (query.text, query.version, query.is_active) == ("suyo", 1, True)
    assert QueryAlert.objects.filter(pk=theirs["alert"].pk).exists()
    assert ListeningSource.objects.get(pk=theirs["source"].pk).is_active
    assert QueryMatch.objects.filter(query=query, backfilled=False).count() == 1
    assert not ListeningQuery.objects.filter(organization=tenant.org).exists()
    assert AuditEntry.objects.filter(organization=other.org).count() == audit_before


def test_the_same_requests_are_not_404_in_the_own_organization(
    api: Api, tenant: Tenant, owner_token: str
) -> None:
    """The 404s above are about tenancy: here each request reaches its action."""
    mine = _world_of(tenant, "acme")
    for method, path, body in _requests(mine):
        response = api.call(method, path, owner_token, body)
        assert response.status in {200, 201, 204}, (method, path, response)


def test_lists_and_references_stay_inside_the_organization(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, brand: Brand
) -> None:
    theirs = _world_of(other, "rival")
    mine = create_query(SYSTEM, brand, name="Mía", text="suyo OR mío")
    assert [q["id"] for q in api.get("/listening/queries", owner_token).body["items"]] == [mine.pk]
    assert api.get(f"/listening/queries?brand_id={theirs['brand'].pk}", owner_token).body["count"] == 0
    assert api.get("/listening/sources", owner_token).body["count"] == 0
    # Their mention of "suyo" is theirs: neither our backtests nor our backfill see it.
    assert api.post("/listening/backtest", owner_token, {"query": "suyo"}).body["checked"] == 0
    assert api.post(f"/listening/queries/{mine.pk}/backfill", owner_token, {"days": 30}).body["added"] == 0
    assert api.get(f"/listening/queries/{mine.pk}/mentions", owner_token).body["count"] == 0
    # Their person cannot be told by our alert; their brand cannot own our query.
    alert = api.post(
        f"/listening/queries/{mine.pk}/alerts", owner_token, {"threshold": 1, "recipients": [other.owner.pk]}
    )
    assert alert.status == 422
    stolen = api.post(
        "/listening/queries", owner_token, {"brand_id": theirs["brand"].pk, "name": "x", "text": "x"}
    )
    assert stolen.status == 404
    assert ListeningQuery.objects.filter(brand=theirs["brand"]).count() == 1
    assert not QueryAlert.objects.filter(query=mine).exists()


def test_every_listening_endpoint_needs_its_scope(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    mine = _world_of(tenant, "acme")
    narrow = make_token(tenant.owner, tenant.org, ["brands:read", "posts:read"])
    everything = [
        *_requests(mine),
        ("POST", "/listening/queries/validate", {"query": "x"}),
        ("POST", "/listening/backtest", {"query": "x"}),
        ("GET", "/listening/queries", None),
        ("GET", "/listening/sources", None),
        ("POST", "/listening/sources", {"kind": "feed", "url": "https://x.example.com/f"}),
    ]
    for method, path, body in everything:
        response = api.call(method, path, narrow, body)
        assert response.status == 403 and response.body["code"] == "missing_scope", (method, path, response)
    # Reading is not writing.
    reader = make_token(tenant.owner, tenant.org, ["listening:read"])
    for method, path, body in _requests(mine, writes=False):
        assert api.call(method, path, reader, body).status == 200, (method, path)
    assert api.post("/listening/queries/validate", reader, {"query": "x"}).status == 200
    writes = [
        *_requests(mine, reads=False),
        ("POST", "/listening/backtest", {"query": "x"}),
        ("POST", "/listening/sources", {"kind": "feed", "url": "https://x.example.com/f"}),
    ]
    for method, path, body in writes:
        response = api.call(method, path, reader, body)
        assert response.status == 403 and response.body["code"] == "missing_scope", (method, path, response)
    assert ListeningQuery.objects.get(pk=mine["query"].pk).version == 1
    assert ListeningSource.objects.count() == 1 and QueryAlert.objects.count() == 1
    assert api.get("/listening/queries", None).status == 401


WRITERS = {role for role in Role if Perm.MANAGE_LISTENING in ROLE_PERMISSIONS[role]}


def test_who_writes_listening() -> None:
    assert {Role.OWNER, Role.ADMIN, Role.BRAND_MANAGER, Role.ANALYST} <= WRITERS
    assert not {Role.APPROVER, Role.CONTRIBUTOR} & WRITERS


@pytest.mark.parametrize("role", list(Role))
def test_roles_and_scopes(api: Api, tenant: Tenant, make_token: TokenMaker, role: Role) -> None:
    """Every member reads; only those who manage listening write, and no token gets around it."""
    mine = _world_of(tenant, "acme")
    person = tenant.person(role)
    token = make_token(person, tenant.org)  # every scope the role allows
    for method, path, body in _requests(mine, writes=False):
        assert api.call(method, path, token, body).status == 200, (role, method, path)
    if role in WRITERS:
        for method, path, body in _requests(mine, reads=False):
            response = api.call(method, path, token, body)
            assert response.status in {200, 201, 204}, (role, method, path, response)
        return
    # A role that may not write cannot even be given the scope ...
    refused = api.post("/tokens", token, {"name": "más", "scopes": ["listening:write"]})
    assert refused.status == 403 and refused.body["code"] == "scope_not_allowed"
    for method, path, body in _requests(mine, reads=False):
        response = api.call(method, path, token, body)
        assert response.status == 403 and response.body["code"] == "missing_scope", (role, method, path)
    assert ListeningQuery.objects.get(pk=mine["query"].pk).version == 1


def test_a_lowered_role_stops_writing_at_once(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    mine = _world_of(tenant, "acme")
    analyst = tenant.person(Role.ANALYST)
    token = make_token(analyst, tenant.org, ["listening:read", "listening:write"])
    assert api.post("/listening/backtest", token, {"query": "suyo"}).status == 200
    change_member_role(
        SYSTEM, Membership.objects.get(user=analyst, organization=tenant.org), Role.CONTRIBUTOR
    )
    for method, path, body in _requests(mine, reads=False):
        response = api.call(method, path, token, body)
        assert response.status == 403 and response.body["code"] == "permission_denied", (method, path)
    assert api.get(f"/listening/queries/{mine['query'].pk}", token).status == 200  # still a member: reads


def test_hostile_text_is_stored_verbatim_and_returned_as_json_strings(
    api: Api, tenant: Tenant, owner_token: str, brand: Brand
) -> None:
    client = Client()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    saved = 0
    for index, text in enumerate(HOSTILE):
        if text.strip():  # a name is trimmed and its runs of spaces joined (as on the web); else verbatim
            named = api.post(
                "/listening/queries", owner_token, {"brand_id": brand.pk, "name": text, "text": f"n{index}"}
            )
            assert named.status == 201 and named.body["name"] == " ".join(text.split()), (text, named)
        created = api.post(
            "/listening/queries",
            owner_token,
            {"brand_id": brand.pk, "name": f"q{index}", "text": f"v{index} {text}"},
        )
        if created.status == 422:  # the parser may refuse it: then with a positioned error, nothing saved
            assert created.body["code"] == "invalid_query", (text, created)
            assert 0 <= created.body["error"]["position"] <= len(text) + 3, (text, created)
            continue
        assert created.status == 201, (text, created)
        saved += 1
        raw = client.get(f"/api/v1/listening/queries/{created.body['id']}", **auth)
        assert raw["Content-Type"].startswith("application/json")
        assert json.loads(raw.content)["text"] == f"v{index} {text}"
        assert ListeningQuery.objects.get(pk=created.body["id"]).text == f"v{index} {text}"
    assert saved >= 4
    # Mentions come back exactly as received, as JSON strings (escaping is the client's job).
    query = create_query(SYSTEM, brand, name="Todo", text="hostil")
    listen(
        tenant.org.pk,
        [
            item(
                f"h{index}", f"hostil {text}", timezone.now() - timedelta(minutes=index + 1), author_name=text
            )
            for index, text in enumerate(HOSTILE)
        ],
    )
    mentions = api.get(f"/listening/queries/{query.pk}/mentions?limit=200", owner_token).body["items"]
    assert sorted(m["text"] for m in mentions) == sorted(f"hostil {text}" for text in HOSTILE)
    assert sorted(m["author_name"] for m in mentions) == sorted(HOSTILE)
    sample = api.post("/listening/backtest", owner_token, {"query": "hostil"}).body["sample"]
    assert sorted(s["text"] for s in sample) == sorted(f"hostil {text}" for text in HOSTILE)
    # A validated hostile query echoes nothing as markup: the tree holds the words as data.
    tree = api.post("/listening/queries/validate", owner_token, {"query": "<script>alert(1)</script>"}).body
    assert tree["valid"] is True and "<" not in json.dumps(tree["tree"])
    # Sources keep a hostile name verbatim.
    source = api.post(
        "/listening/sources",
        owner_token,
        {"kind": "feed", "url": "https://e.example.com/f", "name": HOSTILE[0]},
    )
    assert source.status == 201 and source.body["name"] == HOSTILE[0]


@pytest.mark.parametrize(
    "body",
    [
        {"text": "x" * 40_001},
        {"text": "nul\x00byte"},
        {"text": "lone \ud800 surrogate"},
        {"text": 42},
        {"name": "n" * 121},
        {"name": "nul\x00"},
        {"group": "enemies"},
        {"brand_id": 2**70},
        {"brand_id": "uno"},
        {"is_active": "maybe"},
        {"unknown": "field"},
    ],
)
def test_malformed_or_oversized_queries_are_422(
    api: Api, owner_token: str, brand: Brand, body: dict[str, Any]
) -> None:
    response = api.post(
        "/listening/queries", owner_token, {"brand_id": brand.pk, "name": "x", "text": "x", **body}
    )
    assert response.status == 422, (body, response)
    assert response.body["detail"] and response.body["errors"]
    assert not ListeningQuery.objects.exists()


def test_bodies_that_are_not_objects(api: Api, owner_token: str, brand: Brand) -> None:
    for path in (
        "/listening/queries",
        "/listening/queries/validate",
        "/listening/backtest",
        "/listening/sources",
    ):
        for raw in ['{"query": ', "not json", b"\xff\xfe\x00"]:
            response = api.post(path, owner_token, raw=raw)
            assert response.status == 400 and response.body["code"] == "malformed_json", (path, raw)
        for body in [[], "a string", 42, None]:
            response = api.post(path, owner_token, raw=json.dumps(body))
            assert response.status == 422, (path, body, response)
        huge = api.post(path, owner_token, {"query": "x" * (3 * 1024 * 1024)})
        assert huge.status == 413 and huge.body["code"] == "payload_too_large", path
    for bad_id in ("0", "-1", str(2**70), "abc"):
        response = api.get(f"/listening/queries/{bad_id}", owner_token)
        assert response.status in {404, 422}, (bad_id, response)
    assert not ListeningQuery.objects.exists() and not ListeningSource.objects.exists()


FIELDS = [
    "query",
    "text",
    "name",
    "group",
    "brand_id",
    "is_active",
    "version",
    "days",
    "kind",
    "threshold",
    "window_minutes",
    "minimum_mentions",
    "recipients",
    "url",
    "hashtag",
]
QUERY_PIECES = [
    "vino", "cava", "(", ")", '"', "AND", "OR", "NOT", "and", "NEAR/3", "NEAR/2f", "NEAR/99", "#vino", "@ana",
    "lang:es", "lang:", "author:x", "followers:>1k", "site:x.es", "network:x", "*", "v?no", "vi*", "ñandú",
    "\u200b", "\u202e", "🍷", "-", ":", "<b>",
]  # fmt: skip
pieces = st.lists(st.sampled_from(QUERY_PIECES), max_size=12)
query_text = pieces.map(" ".join) | pieces.map("".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=100)
    | query_text
    | st.sampled_from(
        ["brand", "competitor", "feed", "volume", "negative_share", "https://x.es", "#vino", "1e400"]
    )
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=8,
)
bodies = st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6), values)


def _targets(tenant: Tenant) -> list[tuple[str, str]]:
    w = _world_of(tenant, "fuzz")
    q, b, s = w["query"].pk, w["brand"].pk, w["source"].pk
    return [
        ("POST", "/listening/queries/validate"),
        ("POST", "/listening/queries"),
        ("PATCH", f"/listening/queries/{q}"),
        ("POST", f"/listening/queries/{q}/backtest"),
        ("POST", "/listening/backtest"),
        ("POST", f"/listening/queries/{q}/alerts"),
        ("POST", "/listening/sources"),
        ("PATCH", f"/listening/sources/{s}"),
        ("GET", f"/listening/brands/{b}/share-of-voice"),
    ]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_bodies_never_cause_a_server_error(tenant: Tenant, owner_token: str, data: Any) -> None:
    api = Api()
    if not hasattr(tenant, "_listening_targets"):
        tenant._listening_targets = _targets(tenant)  # type: ignore[attr-defined]  # cached on the fixture
    method, path = data.draw(st.sampled_from(tenant._listening_targets))  # type: ignore[attr-defined]  # cached
    body = data.draw(bodies)
    response = api.call(method, path, owner_token, raw=json.dumps(body))
    assert response.status < 500, (method, path, body, response)
    assert response.status in {200, 201} or response.body["detail"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.one_of(query_text, st.text(max_size=200)))
def test_the_validation_endpoint_answers_any_query_with_a_position_inside_it(
    owner_token: str, query: str
) -> None:
    response = Api().post("/listening/queries/validate", owner_token, {"query": query})
    if "\x00" in query or any("\ud800" <= ch <= "\udfff" for ch in query):
        assert response.status == 422
        return
    assert response.status == 200, (query, response)
    body = response.body
    if body["valid"]:
        assert body["tree"]["type"] and body["error"] is None
    else:
        error = body["error"]
        assert 0 <= error["position"] <= len(query) and error["length"] >= 1 and error["message"], (
            query,
            error,
        )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["since", "until", "sentiment", "limit", "offset"]),
        st.text(max_size=30)
        | st.sampled_from(
            ["2026-01-01T00:00:00Z", "0001-01-01", "9999-12-31T23:59:59+14:00", "negative", "-1"]
        ),
        max_size=4,
    )
)
def test_random_query_strings_never_cause_a_server_error(
    tenant: Tenant, owner_token: str, params: dict[str, str]
) -> None:
    if not hasattr(tenant, "_listening_world"):
        tenant._listening_world = _world_of(tenant, "qs")  # type: ignore[attr-defined]  # cached on the fixture
    w = tenant._listening_world  # type: ignore[attr-defined]  # cached
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {owner_token}"}
    for path in (
        f"/listening/queries/{w['query'].pk}/mentions",
        f"/listening/queries/{w['query'].pk}/insight",
        f"/listening/brands/{w['brand'].pk}/share-of-voice",
    ):
        clean = {key: value.replace("\x00", "") for key, value in params.items()}
        response = Client().get(f"/api/v1{path}", clean, **auth)
        assert response.status_code in {200, 422}, (path, clean, response.content[:300])


def test_the_openapi_document_is_valid_and_documents_listening() -> None:
    document = Client().get("/api/v1/openapi.json").json()
    validate(document)
    paths = document["paths"]
    expected = {
        ("post", "/api/v1/listening/queries/validate"),
        ("get", "/api/v1/listening/queries"),
        ("post", "/api/v1/listening/queries"),
        ("get", "/api/v1/listening/queries/{query_id}"),
        ("patch", "/api/v1/listening/queries/{query_id}"),
        ("delete", "/api/v1/listening/queries/{query_id}"),
        ("get", "/api/v1/listening/queries/{query_id}/mentions"),
        ("get", "/api/v1/listening/queries/{query_id}/insight"),
        ("get", "/api/v1/listening/brands/{brand_id}/share-of-voice"),
        ("post", "/api/v1/listening/queries/{query_id}/backtest"),
        ("post", "/api/v1/listening/backtest"),
        ("post", "/api/v1/listening/queries/{query_id}/backfill"),
        ("get", "/api/v1/listening/queries/{query_id}/alerts"),
        ("post", "/api/v1/listening/queries/{query_id}/alerts"),
        ("delete", "/api/v1/listening/alerts/{alert_id}"),
        ("get", "/api/v1/listening/sources"),
        ("post", "/api/v1/listening/sources"),
        ("patch", "/api/v1/listening/sources/{source_id}"),
        ("delete", "/api/v1/listening/sources/{source_id}"),
    }
    listening = {
        (method, path)
        for path, ops in paths.items()
        for method, op in ops.items()
        if "listening" in op.get("tags", [])
    }
    assert listening == expected
    for method, path in expected:
        op = paths[path][method]
        assert op["summary"] and op["security"] == [{"TokenAuth": []}], (method, path)
        for parameter in op.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] not in {"limit", "offset"}:
                assert parameter.get("description"), (path, parameter["name"])
    validate_answer = paths["/api/v1/listening/queries/validate"]["post"]["responses"]["200"]
    schema = document["components"]["schemas"][
        validate_answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    ]
    assert {"valid", "tree", "warnings", "error"} <= set(schema["properties"])
    assert "Listening" in document["info"]["description"]
    assert Mention.objects.count() == 0  # reading the document touched nothing
