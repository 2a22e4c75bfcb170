"""The publishing endpoints and the house rules: tenancy, scopes, hostile input, the contract."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from tertulia.api.tests.conftest import Api, Tenant, TokenMaker
from tertulia.api.tests.publishing_helpers import *  # noqa: F403  # the fixtures
from tertulia.api.tests.publishing_helpers import draft, png, upload
from tertulia.api.tests.test_errors import HOSTILE
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Channel
from tertulia.publishing.delivery.ledger import enqueue
from tertulia.publishing.models import (
    ApprovalWorkflow,
    DeliveryTarget,
    MediaAsset,
    Pause,
    Post,
    PostComment,
    PostState,
    Variant,
)

pytestmark = pytest.mark.django_db


def _world(tenant: Tenant, slug: str) -> dict[str, Any]:
    """A brand with a channel, a scheduled post and its delivery, an image and an active pause."""
    org = tenant.org
    brand = Brand.objects.create(organization=org, name=f"{org.name} pub", slug=f"{slug}-pub")
    channel = connect_channel(Actor.system(), brand, "sandbox", f"@{slug}_pub")
    post = Post.objects.create(
        organization=org, brand=brand, created_by=tenant.owner, text="suyo", state=PostState.SCHEDULED
    )
    variant = Variant.objects.create(post=post, channel=channel)
    (target,) = enqueue(post, timezone.now(), {variant.pk: {"text": "suyo", "media": []}})
    asset = MediaAsset.objects.create(
        organization=org,
        brand=brand,
        file=f"media/{slug}.png",
        mime_type="image/png",
        width=400,
        height=300,
        size_bytes=10,
        sha256=slug * 8,
    )
    pause = Pause.objects.create(organization=org, brand=brand, reason="suya")
    return {
        "brand": brand,
        "channel": channel,
        "post": post,
        "target": target,
        "asset": asset,
        "pause": pause,
    }


def _requests(w: dict[str, Any]) -> list[tuple[str, str, Any]]:
    b, p, t, a = w["brand"].pk, w["post"].pk, w["target"].pk, w["asset"].pk
    body = {"text": "robado", "variants": [{"channel_id": w["channel"].pk}]}
    steps = {"steps": [{"name": "x", "roles": ["owner"]}]}
    return [
        # Deliveries first: saving the post over (PUT) takes its deliveries off the ledger.
        ("GET", f"/deliveries/{t}", None),
        ("POST", f"/deliveries/{t}/retry", None),
        ("POST", f"/deliveries/{t}/confirm-published", {"url": "https://example.com/x"}),
        ("POST", f"/brands/{b}/posts", body),
        ("POST", f"/brands/{b}/posts/check", body),
        ("GET", f"/posts/{p}", None),
        ("PUT", f"/posts/{p}", {**body, "version": 1}),
        ("POST", f"/posts/{p}/duplicate", None),
        ("GET", f"/posts/{p}/verdicts", None),
        ("POST", f"/posts/{p}/submit", None),
        ("POST", f"/posts/{p}/approve", {"version": 1}),
        ("POST", f"/posts/{p}/request-changes", {"version": 1, "comment": "x"}),
        ("POST", f"/posts/{p}/comments", {"text": "x"}),
        ("POST", f"/posts/{p}/withdraw", None),
        ("POST", f"/posts/{p}/schedule", {}),
        ("POST", f"/posts/{p}/cancel", None),
        ("GET", f"/brands/{b}/media", None),
        ("POST", f"/brands/{b}/media", None),
        ("GET", f"/media/{a}", None),
        ("PATCH", f"/media/{a}", {"alt_text": "robado"}),
        ("DELETE", f"/media/{a}", None),
        ("POST", "/publishing/pauses", {"brand_id": b}),
        ("POST", f"/publishing/pauses/{w['pause'].pk}/resume", None),
        ("GET", f"/brands/{b}/approval-workflows/normal", None),
        ("PUT", f"/brands/{b}/approval-workflows/normal", steps),
    ]


def test_every_publishing_endpoint_is_404_for_another_organization(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, media_root: Any
) -> None:
    theirs = _world(other, "rival")
    audit_before = AuditEntry.objects.filter(organization=other.org).count()
    for method, path, body in _requests(theirs):
        if path.endswith("/media") and method == "POST":
            response = upload(api, theirs["brand"].pk, owner_token, png())
        else:
            response = api.call(method, path, owner_token, body)
        assert response.status == 404, (method, path, response)
        assert response.body["code"] == "not_found"
    file = api.client.get(
        f"/api/v1/media/{theirs['asset'].pk}/file", HTTP_AUTHORIZATION=f"Bearer {owner_token}"
    )
    assert file.status_code == 404 and json.loads(file.content)["code"] == "not_found"
    post = Post.objects.get(pk=theirs["post"].pk)
    assert (post.text, post.state, post.version) == ("suyo", PostState.SCHEDULED, 1)
    assert DeliveryTarget.objects.get(pk=theirs["target"].pk).state == "scheduled"
    assert MediaAsset.objects.filter(pk=theirs["asset"].pk, alt_text="").exists()
    assert Pause.objects.get(pk=theirs["pause"].pk).ended_at is None
    assert not PostComment.objects.exists() and not ApprovalWorkflow.objects.exists()
    assert Post.objects.filter(organization=other.org).count() == 1
    assert AuditEntry.objects.filter(organization=other.org).count() == audit_before


def test_the_same_requests_are_not_404_in_the_own_organization(
    api: Api, tenant: Tenant, owner_token: str, media_root: Any
) -> None:
    """The 404s above are about tenancy: here each request reaches its action (some refuse: 409, 422)."""
    mine = _world(tenant, "acme")
    for method, path, body in _requests(mine):
        if path.endswith("/media") and method == "POST":
            response = upload(api, mine["brand"].pk, owner_token, png())
        else:
            response = api.call(method, path, owner_token, body)
        assert response.status != 404 and response.status < 500, (method, path, response)


def test_lists_and_references_stay_inside_the_organization(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, brand: Brand, channels: list[Channel]
) -> None:
    theirs = _world(other, "rival")
    mine = api.post(f"/brands/{brand.pk}/posts", owner_token, draft(channels)).body
    assert [p["id"] for p in api.get("/posts", owner_token).body["items"]] == [mine["id"]]
    assert api.get(f"/posts?brand_id={theirs['brand'].pk}", owner_token).body["count"] == 0
    assert api.get(f"/posts?author={other.owner.pk}", owner_token).body["count"] == 0
    assert api.get("/publishing/pauses", owner_token).body["count"] == 0
    assert api.get(f"/publishing/pauses?brand_id={theirs['brand'].pk}", owner_token).body["count"] == 0
    # Their channel, image or person named inside one of our requests is refused, not used.
    stolen = draft([*channels, theirs["channel"]])
    for path in (f"/brands/{brand.pk}/posts", f"/brands/{brand.pk}/posts/check"):
        refused = api.post(path, owner_token, stolen)
        assert refused.status == 422 and "not this brand's" in refused.body["detail"], path
        with_image = api.post(path, owner_token, draft(channels, media=[theirs["asset"].pk]))
        assert with_image.status == 422 and "media library" in with_image.body["detail"], path
    person = api.put(
        f"/brands/{brand.pk}/approval-workflows/normal",
        owner_token,
        {"steps": [{"name": "x", "people": [other.owner.pk]}]},
    )
    assert person.status == 422
    assert Post.objects.filter(organization=tenant.org).count() == 1


def test_every_publishing_endpoint_needs_its_scope(
    api: Api, tenant: Tenant, owner_token: str, make_token: TokenMaker, media_root: Any
) -> None:
    mine = _world(tenant, "acme")
    narrow = make_token(tenant.owner, tenant.org, ["brands:read", "channels:read"])
    for method, path, body in _requests(mine):
        if path.endswith("/media") and method == "POST":
            response = upload(api, mine["brand"].pk, narrow, png())
        else:
            response = api.call(method, path, narrow, body)
        assert response.status == 403, (method, path, response)
        assert response.body["code"] == "missing_scope"
    assert api.get("/posts", narrow).body["code"] == "missing_scope"
    assert api.get("/publishing/pauses", narrow).body["code"] == "missing_scope"
    # Reading is not writing.
    reader = make_token(tenant.owner, tenant.org, ["posts:read"])
    assert api.get(f"/posts/{mine['post'].pk}", reader).status == 200
    writes = [r for r in _requests(mine) if r[0] != "GET" and not r[1].endswith("/check")]
    for method, path, body in writes:
        if path.endswith("/media") and method == "POST":
            response = upload(api, mine["brand"].pk, reader, png())
        else:
            response = api.call(method, path, reader, body)
        assert response.status == 403 and response.body["code"] == "missing_scope", (method, path, response)


def test_hostile_text_is_stored_verbatim_and_returned_as_json_strings(
    api: Api, owner_token: str, brand: Brand, channels: list[Channel]
) -> None:
    client = Client()
    for text in HOSTILE:
        body = draft(channels, text, title=text, utm_campaign=text[:100])
        body["variants"][0]["text"] = text
        created = api.post(f"/brands/{brand.pk}/posts", owner_token, body)
        assert created.status == 201, (text, created)
        raw = client.get(f"/api/v1/posts/{created.body['id']}", HTTP_AUTHORIZATION=f"Bearer {owner_token}")
        assert raw["Content-Type"].startswith("application/json")
        read = json.loads(raw.content)
        # Titles are trimmed (as on the web); the copy itself is kept exactly.
        assert read["text"] == text and read["title"] == text.strip() and read["variants"][0]["text"] == text
        if text.strip():
            comment = api.post(f"/posts/{created.body['id']}/comments", owner_token, {"text": text})
            assert comment.status == 201 and comment.body["text"] == text
        stored = Post.objects.get(pk=created.body["id"])
        assert stored.text == text and stored.title == text.strip()
    hidden = api.post(f"/brands/{brand.pk}/posts/check", owner_token, draft(channels, "ho\u200bla \u202eal"))
    assert hidden.status == 200 and hidden.body["channels"][0]["warnings"]
    assert hidden.body["channels"][0]["text"] == "ho\u200bla \u202eal"  # reported, never stripped


@pytest.mark.parametrize(
    "change",
    [
        {"text": "x" * 70_001},
        {"text": "nul\x00byte"},
        {"text": "lone \ud800 surrogate"},
        {"text": 42},
        {"title": "t" * 201},
        {"utm_campaign": "c" * 101},
        {"variants": [{"channel_id": 1}] * 301},
        {"variants": [{"channel_id": 0}]},
        {"variants": [{"channel_id": 2**70}]},
        {"variants": [{"channel_id": "abc"}]},
        {"variants": [{"channel_id": 1, "placement": "panorama"}]},
        {"variants": [{"channel_id": 1, "text": "x" * 70_001}]},
        {"variants": "all"},
        {"media": list(range(1, 12))},
        {"media": [-1]},
        {"scheduled_at": "yesterday"},
        {"scheduled_at": "2001-01-01T00:00:00Z"},
        {"scheduled_at": "9999-12-31T23:59:59-12:00"},
        {"unknown": "field"},
        {"version": 1},
    ],
)
def test_malformed_or_oversized_drafts_are_422(
    api: Api, owner_token: str, brand: Brand, channels: list[Channel], change: dict[str, Any]
) -> None:
    body = {**draft(channels), **change}
    response = api.post(f"/brands/{brand.pk}/posts", owner_token, body)
    assert response.status == 422, (change, response)
    assert response.body["code"] == "validation_error" and response.body["errors"]
    assert not Post.objects.exists()


def test_refused_drafts_list_every_reason_in_the_callers_language(
    api: Api, tenant: Tenant, owner_token: str, brand: Brand, channels: list[Channel]
) -> None:
    tenant.owner.language = "es"
    tenant.owner.save(update_fields=["language"])
    body = draft([channels[0], channels[0]], scheduled_at="2001-01-01T00:00:00Z", media=[999_999])
    refused = api.post(f"/brands/{brand.pk}/posts", owner_token, body)
    assert refused.status == 422 and len(refused.body["errors"]) == 3
    assert "Esa hora ya pasó" in refused.body["detail"]  # "That time has passed", in Spanish
    assert not Post.objects.exists()


def test_bodies_that_are_not_drafts(
    api: Api, owner_token: str, brand: Brand, channels: list[Channel]
) -> None:
    path = f"/brands/{brand.pk}/posts"
    for raw in ['{"text": ', "not json", b"\xff\xfe\x00"]:
        response = api.post(path, owner_token, raw=raw)
        assert response.status == 400 and response.body["code"] == "malformed_json", raw
    not_drafts: list[object] = [[], "a string", 42, None, {"variants": [None]}]
    for body in not_drafts:
        response = api.post(path, owner_token, raw=json.dumps(body))
        assert response.status == 422, (body, response)
    huge = api.post(path, owner_token, {"text": "x" * (3 * 1024 * 1024)})
    assert huge.status == 413 and huge.body["code"] == "payload_too_large"
    post = api.post(path, owner_token, draft(channels)).body
    for version in (0, -1, 2**40, "one", None):
        response = api.put(f"/posts/{post['id']}", owner_token, {**draft(channels), "version": version})
        assert response.status == 422, (version, response)
    assert not Post.objects.exclude(pk=post["id"]).exists()


FIELDS = [
    "text",
    "title",
    "utm_campaign",
    "scheduled_at",
    "variants",
    "media",
    "version",
    "comment",
    "url",
    "alt_text",
    "focal_x",
    "focal_y",
    "brand_id",
    "reason",
    "crisis",
    "steps",
    "is_active",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=200)
    | st.sampled_from(
        ["2030-01-01T10:00:00Z", "2001-01-01", "square", "owner", "any", "https://x.es", "1e400"]
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["channel_id", *FIELDS]), inner)
    ),
    max_leaves=8,
)
bodies = st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6), values)


def _targets(tenant: Tenant) -> list[tuple[str, str]]:
    w = _world(tenant, "fuzz")
    b, p, t, a = w["brand"].pk, w["post"].pk, w["target"].pk, w["asset"].pk
    draft_post = Post.objects.create(organization=tenant.org, brand=w["brand"], created_by=tenant.owner)
    return [
        ("POST", f"/brands/{b}/posts"),
        ("POST", f"/brands/{b}/posts/check"),
        ("PUT", f"/posts/{draft_post.pk}"),
        ("POST", f"/posts/{p}/approve"),
        ("POST", f"/posts/{p}/request-changes"),
        ("POST", f"/posts/{p}/comments"),
        ("POST", f"/posts/{p}/schedule"),
        ("POST", f"/deliveries/{t}/confirm-published"),
        ("PATCH", f"/media/{a}"),
        ("POST", "/publishing/pauses"),
        ("PUT", f"/brands/{b}/approval-workflows/crisis"),
    ]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_bodies_never_cause_a_server_error(tenant: Tenant, owner_token: str, data: Any) -> None:
    api = Api()
    if not hasattr(tenant, "_publishing_targets"):
        tenant._publishing_targets = _targets(tenant)  # type: ignore[attr-defined]  # cached on the fixture
    method, path = data.draw(st.sampled_from(tenant._publishing_targets))  # type: ignore[attr-defined]  # cached
    body = data.draw(bodies)
    response = api.call(method, path, owner_token, raw=json.dumps(body))
    assert response.status < 500, (method, path, body, response)
    assert response.status in {200, 201} or response.body["detail"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.binary(max_size=400),
    name=st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40),
    alt=st.text(max_size=60),
)
def test_random_uploads_never_cause_a_server_error(
    tenant: Tenant, owner_token: str, media_root: Any, content: bytes, name: str, alt: str
) -> None:
    brand = Brand.objects.get_or_create(
        organization=tenant.org, slug="fuzz-media", defaults={"name": "Fuzz"}
    )[0]
    # Names Django's test client cannot even build a file from ("/", ".", "..") become "x".
    if name.replace("\\", "/").rsplit("/", 1)[-1] in {"", ".", ".."}:
        name = "x"
    response = upload(Api(), brand.pk, owner_token, content, name=name, alt_text=alt)
    assert response.status in {201, 200, 422}, (content[:40], name, response)
    assert response.status != 422 or response.body["detail"]


def test_the_openapi_document_is_valid_and_documents_publishing() -> None:
    document = Client().get("/api/v1/openapi.json").json()
    validate(document)
    paths = document["paths"]
    expected = {
        ("get", "/api/v1/posts"),
        ("post", "/api/v1/brands/{brand_id}/posts"),
        ("post", "/api/v1/brands/{brand_id}/posts/check"),
        ("get", "/api/v1/posts/{post_id}"),
        ("put", "/api/v1/posts/{post_id}"),
        ("post", "/api/v1/posts/{post_id}/duplicate"),
        ("post", "/api/v1/posts/{post_id}/submit"),
        ("post", "/api/v1/posts/{post_id}/approve"),
        ("post", "/api/v1/posts/{post_id}/request-changes"),
        ("post", "/api/v1/posts/{post_id}/comments"),
        ("post", "/api/v1/posts/{post_id}/withdraw"),
        ("post", "/api/v1/posts/{post_id}/schedule"),
        ("post", "/api/v1/posts/{post_id}/cancel"),
        ("post", "/api/v1/deliveries/{delivery_id}/retry"),
        ("post", "/api/v1/deliveries/{delivery_id}/confirm-published"),
        ("get", "/api/v1/brands/{brand_id}/media"),
        ("get", "/api/v1/media/{asset_id}/file"),
        ("post", "/api/v1/brands/{brand_id}/media"),
        ("patch", "/api/v1/media/{asset_id}"),
        ("delete", "/api/v1/media/{asset_id}"),
        ("get", "/api/v1/publishing/pauses"),
        ("post", "/api/v1/publishing/pauses"),
        ("post", "/api/v1/publishing/pauses/{pause_id}/resume"),
        ("get", "/api/v1/brands/{brand_id}/approval-workflows/{kind}"),
        ("put", "/api/v1/brands/{brand_id}/approval-workflows/{kind}"),
    }
    present = {(method, path) for path, ops in paths.items() for method in ops}
    assert expected <= present
    assert "multipart/form-data" in paths["/api/v1/brands/{brand_id}/media"]["post"]["requestBody"]["content"]
    assert "Publishing" in document["info"]["description"]
    # Every field of every publishing request and answer says what it is.
    schemas = document["components"]["schemas"]
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/") and ref not in seen:
                seen.add(ref)
                walk(schemas[ref.rsplit("/", 1)[1]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path, ops in paths.items():
        for op in ops.values():
            if "publishing" in op.get("tags", []):
                walk(op)
                for parameter in op.get("parameters", []):
                    if parameter["in"] == "query" and parameter["name"] not in {"limit", "offset"}:
                        assert parameter.get("description"), (path, parameter["name"])
    undocumented = [
        (ref, name)
        for ref in sorted(seen)
        if not ref.rsplit("/", 1)[1].startswith("Paged")  # ninja's pagination envelope
        for name, prop in schemas[ref.rsplit("/", 1)[1]].get("properties", {}).items()
        if not prop.get("description")
    ]
    assert seen and not undocumented, "\n".join(map(str, undocumented))


def test_a_token_can_still_carry_every_scope(api: Api, owner_token: str) -> None:
    """The publishing scopes made the list longer than the old limit of 20 scopes per token."""
    from tertulia.api.scopes import ALL_SCOPES

    created = api.post("/tokens", owner_token, {"name": "todo", "scopes": list(ALL_SCOPES)})
    assert created.status == 201 and sorted(created.body["scopes"]) == sorted(ALL_SCOPES)
