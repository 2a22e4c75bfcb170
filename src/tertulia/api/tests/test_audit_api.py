"""GET /audit with every filter, GET /audit/export (JSON lines, CSV) and GET /audit/verify."""

from __future__ import annotations

import json
import typing
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tertulia.api.routers.audit import Area
from tertulia.api.tests.conftest import Api, Tenant, TokenMaker
from tertulia.core import audit_chain
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.audit_areas import AREA_KEYS
from tertulia.core.audit_db import drop_triggers, install_triggers
from tertulia.core.models import AuditEntry, Role

pytestmark = pytest.mark.django_db


def fill(tenant: Tenant) -> None:
    cm = tenant.person(Role.COMMUNITY_MANAGER)
    record(
        Actor(user=cm, via="web"), tenant.org, "post.approved", None, {"state": ["a", "b"]}, "publishing.post"
    )
    record(Actor(user=cm, via="web"), tenant.org, "moderation.hide", None, {}, "moderation.action")
    record(Actor.system("worker"), tenant.org, "publishing.paused", None, {}, "publishing.pause")
    record(Actor.system("=cmd"), tenant.org, "post.scheduled", None, {"at": [None, "x"]}, "publishing.post")


def raw(path: str, token: str) -> tuple[int, str, str]:
    response = Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {token}")
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]  # typed as HttpResponseBase
    return response.status_code, response["Content-Type"], body.decode("utf-8")


def test_the_area_choices_are_the_core_ones() -> None:
    assert typing.get_args(Area) == AREA_KEYS


def test_the_list_has_the_chain_fields_and_every_filter(api: Api, tenant: Tenant, owner_token: str) -> None:
    fill(tenant)
    cm = tenant.person(Role.COMMUNITY_MANAGER)
    items = api.get("/audit", owner_token).body["items"]
    assert {"sequence", "previous_hash", "hash"} <= set(items[0])
    assert items[0]["action"] == "post.scheduled"  # newest first
    newest = AuditEntry.objects.get(pk=items[0]["id"])
    assert (items[0]["sequence"], items[0]["hash"]) == (newest.sequence, newest.hash)

    def count(query: str) -> int:
        response = api.get(f"/audit?{query}", owner_token)
        assert response.status == 200, response
        return int(response.body["count"])

    assert count(f"person={cm.pk}") == 2
    assert count("person=none") >= 2
    assert count("area=crisis") == 1
    assert count("area=publishing") == 2
    assert count("action=post.") == 2
    assert count("action=post.approved") == 1
    assert count("object=publishing") == 0  # the recorded name, not the type
    assert count("object_type=publishing.post") == 2
    soon = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert count(f"since={soon}") == 0
    assert count(f"until={soon}&area=moderation") == 1
    assert count("via=system&area=crisis") == 1


@pytest.mark.parametrize(
    "query", ["person=ana", "area=everything", "since=yesterday", "action=" + "x" * 65, "format=xml"]
)
def test_bad_filters_are_a_422(api: Api, tenant: Tenant, owner_token: str, query: str) -> None:
    path = "/audit/export" if query.startswith("format") else "/audit"
    assert api.get(f"{path}?{query}", owner_token).status == 422


def test_the_export_is_verifiable_and_audited(tenant: Tenant, owner_token: str) -> None:
    fill(tenant)
    status, content_type, body = raw("/audit/export", owner_token)
    assert status == 200 and content_type.startswith("application/x-ndjson")
    lines = [json.loads(line) for line in body.splitlines()]
    assert [line["sequence"] for line in lines] == list(range(1, len(lines) + 1))  # the whole chain, in order
    reports = audit_chain.verify_export(audit_chain.read_export(body))
    assert len(reports) == 1 and reports[0].ok
    status, content_type, body = raw("/audit/export?format=csv&area=publishing", owner_token)
    assert status == 200 and content_type.startswith("text/csv")
    assert "'=cmd" in body
    entries = audit_chain.read_export(body)
    assert [e["action"] for e in entries] == ["post.approved", "post.scheduled"]
    assert all(r.ok for r in audit_chain.verify_export(entries, allow_gaps=True))
    assert AuditEntry.objects.filter(organization=tenant.org, action="audit.exported", via="api").count() == 2


def test_verify_reports_ok_or_the_first_broken_link(api: Api, tenant: Tenant, owner_token: str) -> None:
    fill(tenant)
    result = api.get("/audit/verify", owner_token).body
    assert result["ok"] and result["broken"] is None
    assert result["entries"] == AuditEntry.objects.filter(organization=tenant.org).count()
    target = AuditEntry.objects.get(organization=tenant.org, action="moderation.hide")
    drop_triggers()  # an attacker with the database's owner rights
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [target.pk])
    finally:
        install_triggers()
    result = api.get("/audit/verify", owner_token).body
    assert not result["ok"]
    assert (result["broken"]["kind"], result["broken"]["sequence"]) == ("deleted", target.sequence)


def test_only_this_organization_and_only_with_the_scope(
    api: Api, tenant: Tenant, other: Tenant, make_token: TokenMaker, other_token: str
) -> None:
    fill(tenant)
    fill(other)
    status, _type, body = raw("/audit/export", other_token)
    assert status == 200 and str(tenant.org.pk) not in {
        str(json.loads(x)["organization"]) for x in body.splitlines()
    }
    analyst = make_token(tenant.person(Role.ANALYST), tenant.org)  # every scope the analyst's role allows
    no_scope = make_token(tenant.owner, tenant.org, ["brands:read"])
    for path in ("/audit", "/audit/export", "/audit/verify"):
        assert api.get(path, no_scope).status == 403
        assert api.get(path, analyst).status == 403
        assert api.get(path).status == 401
    manager = make_token(tenant.person(Role.BRAND_MANAGER), tenant.org, ["audit:read"])
    assert api.get("/audit/verify", manager).status == 200
