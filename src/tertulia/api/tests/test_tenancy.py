"""Nothing crosses an organization: other tenants' ids are 404, their rows never appear in lists."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tertulia.api.models import ApiToken
from tertulia.core.models import (
    AuditEntry,
    Brand,
    Channel,
    Competitor,
    Contact,
    ContactHandle,
    Membership,
    Objective,
)

from .conftest import SYSTEM, Api, Tenant

pytestmark = pytest.mark.django_db


def _world(tenant: Tenant) -> dict[str, Any]:
    """One of everything in `tenant`'s organization."""
    org = tenant.org
    brand = Brand.objects.create(organization=org, name=f"{org.name} brand", slug="brand")
    contact = Contact.objects.create(organization=org, display_name=f"{org.name} contact")
    return {
        "brand": brand,
        "competitor": Competitor.objects.create(brand=brand, name="c"),
        "objective": Objective.objects.create(
            brand=brand,
            title="o",
            kpi="sla_met",
            target=90,
            period_start=date(2025, 1, 1),
            period_end=date(2025, 2, 1),
        ),
        "channel": Channel.objects.create(organization=org, brand=brand, network="sandbox", handle=org.slug),
        "contact": contact,
        "handle": ContactHandle.objects.create(
            organization=org, contact=contact, network="sandbox", handle=org.slug
        ),
        "member": Membership.objects.get(organization=org, user=tenant.owner),
        "token": ApiToken.objects.filter(organization=org).first(),
    }


def _detail_requests(w: dict[str, Any]) -> list[tuple[str, str, Any]]:
    b, ch, co = w["brand"].pk, w["channel"].pk, w["contact"].pk
    return [
        ("GET", f"/members/{w['member'].pk}", None),
        ("PATCH", f"/members/{w['member'].pk}", {"role": "admin"}),
        ("GET", f"/brands/{b}", None),
        ("PATCH", f"/brands/{b}", {"name": "stolen"}),
        ("GET", f"/brands/{b}/competitors", None),
        ("POST", f"/brands/{b}/competitors", {"name": "x"}),
        ("GET", f"/competitors/{w['competitor'].pk}", None),
        ("PATCH", f"/competitors/{w['competitor'].pk}", {"name": "x"}),
        ("DELETE", f"/competitors/{w['competitor'].pk}", None),
        ("GET", f"/brands/{b}/objectives", None),
        (
            "POST",
            f"/brands/{b}/objectives",
            {
                "title": "x",
                "kpi": "sla_met",
                "target": 1,
                "period_start": "2025-01-01",
                "period_end": "2025-01-02",
            },
        ),
        ("GET", f"/objectives/{w['objective'].pk}", None),
        ("PATCH", f"/objectives/{w['objective'].pk}", {"title": "x"}),
        ("DELETE", f"/objectives/{w['objective'].pk}", None),
        ("POST", f"/brands/{b}/channels", {"network": "sandbox", "handle": "stolen"}),
        ("GET", f"/channels/{ch}", None),
        ("PATCH", f"/channels/{ch}", {"status": "paused"}),
        ("PUT", f"/channels/{ch}/operators", {"user_ids": []}),
        ("GET", f"/contacts/{co}", None),
        ("PATCH", f"/contacts/{co}", {"notes": "x"}),
        ("POST", f"/contacts/{co}/handles", {"network": "sandbox", "handle": "x"}),
        ("DELETE", f"/contacts/{co}/handles/{w['handle'].pk}", None),
        ("DELETE", f"/tokens/{w['token'].pk}", None),
    ]


def test_every_detail_endpoint_is_404_for_another_organization(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, other_token: str
) -> None:
    theirs = _world(other)
    _world(tenant)
    audit_before = AuditEntry.objects.filter(organization=other.org).count()
    for method, path, body in _detail_requests(theirs):
        response = api.call(method, path, owner_token, body)
        assert response.status == 404, (method, path, response)
        assert response.body["code"] == "not_found"
    # Nothing of theirs changed.
    assert Brand.objects.get(pk=theirs["brand"].pk).name == "Rival brand"
    assert Competitor.objects.filter(pk=theirs["competitor"].pk).exists()
    assert ContactHandle.objects.filter(pk=theirs["handle"].pk).exists()
    assert ApiToken.objects.get(pk=theirs["token"].pk).revoked_at is None
    assert AuditEntry.objects.filter(organization=other.org).count() == audit_before


def test_the_same_requests_succeed_in_the_own_organization(
    api: Api, tenant: Tenant, owner_token: str
) -> None:
    """The 404s above are about tenancy, not about the requests being wrong."""
    mine = _world(tenant)
    for method, path, body in _detail_requests(mine):
        if path.startswith("/members/") or path.startswith("/tokens/"):
            continue  # demoting the last owner / revoking the caller's token are tested elsewhere
        response = api.call(method, path, owner_token, body)
        assert response.status < 300, (method, path, response)


def test_lists_hold_only_the_own_organization(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, other_token: str
) -> None:
    mine, theirs = _world(tenant), _world(other)
    api.post("/brands", other_token, {"name": "Their API brand"})
    checks = {
        "/brands": {mine["brand"].pk},
        "/channels": {mine["channel"].pk},
        "/contacts": {mine["contact"].pk},
        f"/brands/{mine['brand'].pk}/competitors": {mine["competitor"].pk},
        f"/brands/{mine['brand'].pk}/objectives": {mine["objective"].pk},
    }
    for path, expected in checks.items():
        body = api.get(path, owner_token).body
        assert {item["id"] for item in body["items"]} == expected, path
        assert body["count"] == len(expected)
    members = api.get("/members?limit=200", owner_token).body["items"]
    assert {m["user"]["email"].split("@")[1] for m in members} == {"acme.test"}
    audit = api.get("/audit?limit=200", owner_token).body["items"]
    assert audit and all("Rival" not in str(entry) and "rival" not in str(entry) for entry in audit)
    assert {t["id"] for t in api.get("/tokens", owner_token).body["items"]} == set(
        ApiToken.objects.filter(organization=tenant.org, user=tenant.owner).values_list("pk", flat=True)
    )
    assert theirs["brand"].pk not in {b["id"] for b in api.get("/brands", owner_token).body["items"]}


def test_filters_cannot_reach_across(api: Api, tenant: Tenant, other: Tenant, owner_token: str) -> None:
    theirs = _world(other)
    assert api.get(f"/channels?brand_id={theirs['brand'].pk}", owner_token).body["count"] == 0
    assert api.get("/contacts?q=Rival", owner_token).body["count"] == 0
    assert (
        api.get(f"/audit?object_id={theirs['brand'].pk}&object_type=core.brand", owner_token).body["count"]
        == 0
    )


def test_another_organization_cannot_connect_an_account_already_connected(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, other_token: str
) -> None:
    """The account behind a channel is one organization's: a second connection would read its DMs."""
    from tertulia.core.actions import brands
    from tertulia.core.models import Channel

    mine = brands.create_brand(SYSTEM, tenant.org, name="Mine")
    theirs = brands.create_brand(SYSTEM, other.org, name="Theirs")
    first = api.post(
        f"/brands/{mine.pk}/channels", owner_token, {"network": "sandbox", "handle": "acme_shop"}
    )
    assert first.status == 201
    taken = api.post(
        f"/brands/{theirs.pk}/channels", other_token, {"network": "sandbox", "handle": "@ACME_shop"}
    )
    assert taken.status == 409
    assert taken.body["code"] == "channel_taken"
    assert list(Channel.objects.filter(handle="acme_shop").values_list("organization_id", flat=True)) == [
        tenant.org.pk
    ]
    # Within one organization too: a second brand cannot take the same account.
    again = brands.create_brand(SYSTEM, tenant.org, name="Again")
    assert (
        api.post(
            f"/brands/{again.pk}/channels", owner_token, {"network": "sandbox", "handle": "acme_shop"}
        ).status
        == 409
    )
