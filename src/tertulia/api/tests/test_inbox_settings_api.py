"""The inbox settings API: SLA policy, inbox settings, saved replies, tags and the SLA report."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tertulia.core.models import AuditEntry, Brand, Role
from tertulia.inbox.actions.settings import save_saved_reply
from tertulia.inbox.actions.tags import tags_named
from tertulia.inbox.models import InboxSettings, SavedReply, SlaPolicy, Tag

from .conftest import SYSTEM, Api, Tenant, TokenMaker

pytestmark = pytest.mark.django_db

POLICY = {
    "first_response_minutes": 1440,
    "next_response_minutes": 1440,
    "intent_targets": {"complaint": 60},
    "critical_response_minutes": 30,
    "warn_before_minutes": 15,
    "business_hours": {
        "timezone": "Europe/Madrid",
        "week": {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
        "holidays": [],
    },
}


def _brand(tenant: Tenant, name: str = "Marca") -> Brand:
    return Brand.objects.create(organization=tenant.org, name=name, slug=name.lower())


def test_sla_policy_read_and_replace(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand = _brand(tenant)
    default = api.get(f"/brands/{brand.pk}/sla-policy", owner_token)
    assert default.status == 200
    assert default.body["intent_targets"] == {"complaint": 60} and default.body["business_hours"] == {}
    put = api.put(f"/brands/{brand.pk}/sla-policy", owner_token, POLICY)
    assert put.status == 200, put
    assert put.body["business_hours"]["week"]["sat"] == [["09:00", "21:00"]]
    assert "sun" not in put.body["business_hours"]["week"]
    assert SlaPolicy.objects.get(brand=brand).intent_targets == {"complaint": 60}
    assert api.get(f"/brands/{brand.pk}/sla-policy", owner_token).body == put.body
    entry = AuditEntry.objects.get(action="inbox.sla_policy")
    assert entry.via == "api"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"business_hours": {"timezone": "Mars/Olympus"}}, ["body", "business_hours"]),
        (
            {"business_hours": {"timezone": "UTC", "week": {"mon": [["10:00", "09:00"]]}}},
            ["body", "business_hours"],
        ),
        ({"business_hours": {"timezone": "UTC"}}, ["body", "business_hours"]),
        ({"first_response_minutes": 0}, None),
        ({"intent_targets": {"rant": 5}}, None),
        ({"warn_before_minutes": -1}, None),
        ({"colour": "red"}, None),
    ],
)
def test_invalid_policies_are_422_naming_the_problem(
    api: Api, tenant: Tenant, owner_token: str, change: dict[str, Any], loc: list[str] | None
) -> None:
    brand = _brand(tenant)
    response = api.put(f"/brands/{brand.pk}/sla-policy", owner_token, {**POLICY, **change})
    assert response.status == 422, response
    assert response.body["detail"] and response.body["errors"]
    if loc is not None:
        assert response.body["errors"][0]["loc"] == loc
    assert not SlaPolicy.objects.filter(brand=brand).exists()


def test_inbox_settings_read_and_replace(api: Api, tenant: Tenant, other: Tenant, owner_token: str) -> None:
    brand = _brand(tenant)
    assert api.get(f"/brands/{brand.pk}/inbox-settings", owner_token).body == {
        "assignment": "manual",
        "escalate_to": None,
    }
    manager = tenant.person(Role.BRAND_MANAGER)
    put = api.put(
        f"/brands/{brand.pk}/inbox-settings",
        owner_token,
        {"assignment": "balanced", "escalate_to": manager.pk},
    )
    assert put.status == 200 and put.body == {"assignment": "balanced", "escalate_to": manager.pk}
    stranger = other.person(Role.BRAND_MANAGER)
    for body in (
        {"assignment": "balanced", "escalate_to": stranger.pk},
        {"assignment": "balanced", "escalate_to": 10**12},
        {"assignment": "lottery"},
    ):
        assert api.put(f"/brands/{brand.pk}/inbox-settings", owner_token, body).status == 422
    settings_row = InboxSettings.objects.get(brand=brand)
    assert settings_row.escalate_to == manager


def test_saved_replies_crud(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand = _brand(tenant)
    body = {"shortcut": "envio", "language": "es", "title": "Envíos", "body": "Hola {name}, soy {agent}."}
    created = api.post(f"/brands/{brand.pk}/saved-replies", owner_token, body)
    assert created.status == 201, created
    reply_id = created.body["id"]
    assert (
        api.post(f"/brands/{brand.pk}/saved-replies", owner_token, body).status == 422
    )  # same shortcut+language
    typo = api.post(
        f"/brands/{brand.pk}/saved-replies", owner_token, {**body, "language": "en", "body": "{nmae}"}
    )
    assert typo.status == 422 and typo.body["errors"][0]["loc"] == ["body", "body"]
    listed = api.get(f"/brands/{brand.pk}/saved-replies", owner_token)
    assert listed.body["count"] == 1 and listed.body["items"][0]["shortcut"] == "envio"
    patched = api.patch(f"/saved-replies/{reply_id}", owner_token, {"title": "Envíos y plazos"})
    assert (
        patched.status == 200
        and patched.body["title"] == "Envíos y plazos"
        and patched.body["body"] == body["body"]
    )
    assert api.patch(f"/saved-replies/{reply_id}", owner_token, {"title": None}).status == 422
    assert api.get(f"/saved-replies/{reply_id}", owner_token).body["title"] == "Envíos y plazos"
    assert api.delete(f"/saved-replies/{reply_id}", owner_token).status == 204
    assert api.get(f"/saved-replies/{reply_id}", owner_token).status == 404


def test_tags_list_rename_delete(api: Api, tenant: Tenant, owner_token: str) -> None:
    envio, queja = tags_named(tenant.org.pk, ["envio", "queja"])
    listed = api.get("/tags", owner_token)
    assert [(t["name"], t["conversations"]) for t in listed.body["items"]] == [("envio", 0), ("queja", 0)]
    renamed = api.patch(f"/tags/{envio.pk}", owner_token, {"name": "Envíos"})
    assert renamed.status == 200 and renamed.body["name"] == "envíos"
    clash = api.patch(f"/tags/{envio.pk}", owner_token, {"name": "queja"})
    assert clash.status == 422 and "already" in clash.body["detail"]
    assert api.delete(f"/tags/{queja.pk}", owner_token).status == 204
    assert list(Tag.objects.filter(organization=tenant.org).values_list("name", flat=True)) == ["envíos"]


def test_the_sla_report(api: Api, tenant: Tenant, owner_token: str) -> None:
    brand = _brand(tenant)
    report = api.get(f"/brands/{brand.pk}/sla-report?days=7", owner_token)
    assert report.status == 200, report
    assert report.body["overall"]["met_percent"] is None
    assert {
        "by_stage",
        "by_channel",
        "by_intent",
        "at_risk",
        "overdue",
        "first_response_median_minutes",
    } <= set(report.body)
    assert api.get(f"/brands/{brand.pk}/sla-report", owner_token).status == 200  # 30 days by default
    assert api.get(f"/brands/{brand.pk}/sla-report?days=15", owner_token).status == 422
    assert api.get(f"/brands/{brand.pk}/sla-report?days=x", owner_token).status == 422


def test_an_analyst_reads_but_cannot_change(api: Api, tenant: Tenant, make_token: TokenMaker) -> None:
    brand = _brand(tenant)
    reply = save_saved_reply(SYSTEM, brand, shortcut="a", language="es", title="a", body="a")
    tag = tags_named(tenant.org.pk, ["x"])[0]
    token = make_token(tenant.person(Role.ANALYST), tenant.org)
    for path in (
        f"/brands/{brand.pk}/sla-policy",
        f"/brands/{brand.pk}/inbox-settings",
        f"/brands/{brand.pk}/saved-replies",
        f"/saved-replies/{reply.pk}",
        "/tags",
        f"/brands/{brand.pk}/sla-report",
    ):
        assert api.get(path, token).status == 200, path
    writes = [
        ("PUT", f"/brands/{brand.pk}/sla-policy", POLICY),
        ("PUT", f"/brands/{brand.pk}/inbox-settings", {"assignment": "balanced"}),
        (
            "POST",
            f"/brands/{brand.pk}/saved-replies",
            {"shortcut": "b", "language": "es", "title": "b", "body": "b"},
        ),
        ("PATCH", f"/saved-replies/{reply.pk}", {"title": "hacked"}),
        ("DELETE", f"/saved-replies/{reply.pk}", None),
        ("PATCH", f"/tags/{tag.pk}", {"name": "hacked"}),
        ("DELETE", f"/tags/{tag.pk}", None),
    ]
    for method, path, body in writes:
        response = api.call(method, path, token, body)
        assert response.status == 403, (method, path, response)
    assert SavedReply.objects.get(pk=reply.pk).title == "a" and Tag.objects.get(pk=tag.pk).name == "x"


def test_another_organization_is_404(api: Api, tenant: Tenant, other: Tenant, owner_token: str) -> None:
    brand = _brand(other, "Rival")
    reply = save_saved_reply(SYSTEM, brand, shortcut="a", language="es", title="a", body="a")
    tag = tags_named(other.org.pk, ["secreto"])[0]
    requests = [
        ("GET", f"/brands/{brand.pk}/sla-policy", None),
        ("PUT", f"/brands/{brand.pk}/sla-policy", POLICY),
        ("GET", f"/brands/{brand.pk}/inbox-settings", None),
        ("PUT", f"/brands/{brand.pk}/inbox-settings", {"assignment": "balanced"}),
        ("GET", f"/brands/{brand.pk}/saved-replies", None),
        (
            "POST",
            f"/brands/{brand.pk}/saved-replies",
            {"shortcut": "b", "language": "es", "title": "b", "body": "b"},
        ),
        ("GET", f"/saved-replies/{reply.pk}", None),
        ("PATCH", f"/saved-replies/{reply.pk}", {"title": "x"}),
        ("DELETE", f"/saved-replies/{reply.pk}", None),
        ("PATCH", f"/tags/{tag.pk}", {"name": "x"}),
        ("DELETE", f"/tags/{tag.pk}", None),
        ("GET", f"/brands/{brand.pk}/sla-report", None),
    ]
    for method, path, body in requests:
        response = api.call(method, path, owner_token, body)
        assert response.status == 404, (method, path, response)
    assert "secreto" not in json.dumps(api.get("/tags", owner_token).body)
    assert SavedReply.objects.filter(pk=reply.pk).exists() and Tag.objects.get(pk=tag.pk).name == "secreto"
    assert not SlaPolicy.objects.filter(brand=brand).exists()


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(max_size=40)
    | st.sampled_from(["Europe/Madrid", "09:00", "24:00", "mon", "complaint", "2026-12-25", "\x00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = [
    *POLICY,
    "timezone",
    "week",
    "holidays",
    "assignment",
    "escalate_to",
    "shortcut",
    "language",
    "title",
    "body",
    "name",
]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_bodies_never_cause_a_server_error(tenant: Tenant, owner_token: str, data: Any) -> None:
    if not hasattr(tenant, "_settings_targets"):
        brand = _brand(tenant, "Fuzz")
        reply = save_saved_reply(SYSTEM, brand, shortcut="a", language="es", title="a", body="a")
        tag = tags_named(tenant.org.pk, ["fuzz"])[0]
        tenant._settings_targets = [  # type: ignore[attr-defined]  # cached on the fixture
            ("PUT", f"/brands/{brand.pk}/sla-policy"),
            ("PUT", f"/brands/{brand.pk}/inbox-settings"),
            ("POST", f"/brands/{brand.pk}/saved-replies"),
            ("PATCH", f"/saved-replies/{reply.pk}"),
            ("PATCH", f"/tags/{tag.pk}"),
        ]
    method, path = data.draw(st.sampled_from(tenant._settings_targets))  # type: ignore[attr-defined]  # cached
    body = data.draw(
        st.one_of(
            st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
            st.fixed_dictionaries({k: st.just(v) for k, v in POLICY.items()}).flatmap(
                lambda base: st.dictionaries(st.sampled_from(list(POLICY)), values, max_size=2).map(
                    lambda extra: {**base, **extra}
                )
            ),
            values,
        )
    )
    response = Api().call(method, path, owner_token, raw=json.dumps(body))
    assert response.status < 500, (method, path, body, response)
    assert response.status in {200, 201, 204} or response.body["detail"]
