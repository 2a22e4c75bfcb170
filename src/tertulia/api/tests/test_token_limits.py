"""A token never does more than its owner, brands and channel grants included, and changes to the owner
take effect on the token at once (docs/permissions.md#api-tokens)."""

from __future__ import annotations

from typing import Any

import pytest

from tertulia.api.models import ApiToken
from tertulia.api.scopes import ALL_SCOPES
from tertulia.core.actions import brands as brand_actions
from tertulia.core.actions.channels import connect_channel, set_channel_operators
from tertulia.core.actions.grants import set_brand_access
from tertulia.core.actions.organizations import change_member_role
from tertulia.core.models import AuditEntry, Brand, BrandAccess, Membership, Role
from tertulia.listening.actions.queries import create_query
from tertulia.publishing.actions.compose import DraftSpec, VariantSpec, create_post

from .conftest import SYSTEM, Api, Tenant, TokenMaker

pytestmark = pytest.mark.django_db


@pytest.fixture
def brands(tenant: Tenant) -> dict[str, Any]:
    """Two brands, each with a channel, a post and a listening query; a brand manager limited to "mine"."""
    made: dict[str, Any] = {}
    for key in ("mine", "theirs"):
        brand = brand_actions.create_brand(SYSTEM, tenant.org, name=f"Brand {key}")
        channel = connect_channel(SYSTEM, brand, "sandbox", f"{key}_shop")
        post = create_post(
            _actor(tenant.owner), brand, DraftSpec(text=f"post of {key}", variants=[VariantSpec(channel.pk)])
        )
        query = create_query(SYSTEM, brand, name=f"query {key}", text=key)
        made[key] = {"brand": brand, "channel": channel, "post": post, "query": query}
    manager = tenant.person(Role.BRAND_MANAGER)
    member = Membership.objects.get(user=manager, organization=tenant.org)
    set_brand_access(SYSTEM, member, all_brands=False, brands=[made["mine"]["brand"]])
    for key in ("mine", "theirs"):
        # A grant on the other brand's channel too, made behind the actions' back: it must count for nothing.
        set_channel_operators(SYSTEM, made[key]["channel"], [manager])
    made["member"] = Membership.objects.get(pk=member.pk)
    return made


def _actor(user: Any) -> Any:
    from tertulia.core.actions.context import Actor

    return Actor(user=user, via="test")


def _ids(body: Any) -> set[int]:
    return {item["id"] for item in body["items"]}


def test_a_limited_member_token_neither_reads_nor_writes_another_brand(
    api: Api, tenant: Tenant, brands: dict[str, Any], make_token: TokenMaker
) -> None:
    token = make_token(tenant.person(Role.BRAND_MANAGER), tenant.org)
    mine, theirs = brands["mine"], brands["theirs"]
    # Lists hold only the member's brand.
    assert _ids(api.get("/brands", token).body) == {mine["brand"].pk}
    assert _ids(api.get("/channels", token).body) == {mine["channel"].pk}
    assert _ids(api.get("/posts", token).body) == {mine["post"].pk}
    assert _ids(api.get("/listening/queries", token).body) == {mine["query"].pk}
    assert api.get(f"/posts?brand_id={theirs['brand'].pk}", token).body["count"] == 0
    # The other brand's objects are "not found", to read and to write; nothing of theirs changes.
    before = AuditEntry.objects.count()
    for method, path, body in [
        ("GET", f"/brands/{theirs['brand'].pk}", None),
        ("PATCH", f"/brands/{theirs['brand'].pk}", {"name": "taken"}),
        ("GET", f"/channels/{theirs['channel'].pk}", None),
        ("PATCH", f"/channels/{theirs['channel'].pk}", {"status": "paused"}),
        ("GET", f"/posts/{theirs['post'].pk}", None),
        ("POST", f"/posts/{theirs['post'].pk}/duplicate", None),
        ("POST", f"/brands/{theirs['brand'].pk}/posts", {"text": "x", "variants": []}),
        ("GET", f"/listening/queries/{theirs['query'].pk}", None),
        ("DELETE", f"/listening/queries/{theirs['query'].pk}", None),
        ("GET", f"/brands/{theirs['brand'].pk}/conversations", None),
        ("POST", "/listening/queries", {"brand_id": theirs["brand"].pk, "name": "n", "text": "x"}),
    ]:
        response = api.call(method, path, token, body)
        assert response.status == 404, (method, path, response)
    assert AuditEntry.objects.count() == before
    assert Brand.objects.get(pk=theirs["brand"].pk).name == "Brand theirs"
    # Its own brand works as usual.
    assert api.get(f"/brands/{mine['brand'].pk}", token).status == 200
    assert api.patch(f"/brands/{mine['brand'].pk}", token, {"name": "Renamed"}).status == 200


def test_a_limited_member_token_loses_what_covers_the_whole_organization(
    api: Api, tenant: Tenant, brands: dict[str, Any], make_token: TokenMaker
) -> None:
    manager = tenant.person(Role.BRAND_MANAGER)
    every = make_token(manager, tenant.org)  # made while limited: no audit:read on it
    assert "audit:read" not in api.get("/me", every).body["scopes"]
    # A token made before the limit still carries the scope, but the owner no longer has it.
    Membership.objects.filter(pk=brands["member"].pk).update(all_brands=True)
    older = make_token(manager, tenant.org, ["audit:read", "brands:write"])
    assert api.get("/audit", older).status == 200
    Membership.objects.filter(pk=brands["member"].pk).update(all_brands=False)
    refused = api.get("/audit", older)
    assert refused.status == 403 and refused.body["code"] == "permission_denied"
    # Creating brands and renaming the organization's tags need every brand.
    assert api.post("/brands", older, {"name": "New"}).status == 403


def test_removing_brand_access_takes_effect_on_the_token_at_once(
    api: Api, tenant: Tenant, brands: dict[str, Any], make_token: TokenMaker
) -> None:
    member = brands["member"]
    set_brand_access(SYSTEM, member, all_brands=True)
    token = make_token(tenant.person(Role.BRAND_MANAGER), tenant.org)
    theirs = brands["theirs"]["brand"]
    assert api.get(f"/brands/{theirs.pk}", token).status == 200
    set_brand_access(SYSTEM, member, all_brands=False, brands=[brands["mine"]["brand"]])
    assert api.get(f"/brands/{theirs.pk}", token).status == 404
    assert api.patch(f"/brands/{theirs.pk}", token, {"name": "x"}).status == 404


def test_lowering_the_role_takes_effect_on_the_token_at_once(
    api: Api, tenant: Tenant, brands: dict[str, Any], make_token: TokenMaker
) -> None:
    manager = tenant.person(Role.BRAND_MANAGER)
    token = make_token(manager, tenant.org, ALL_SCOPES_OF_BRAND_MANAGER)
    mine = brands["mine"]["brand"]
    assert api.patch(f"/brands/{mine.pk}", token, {"name": "Before"}).status == 200
    change_member_role(SYSTEM, brands["member"], Role.CONTRIBUTOR)
    refused = api.patch(f"/brands/{mine.pk}", token, {"name": "After"})
    assert refused.status == 403 and refused.body["code"] == "permission_denied"
    assert Brand.objects.get(pk=mine.pk).name == "Before"
    # Still limited to the same brand in the lower role.
    assert api.get(f"/brands/{brands['theirs']['brand'].pk}", token).status == 404


def test_a_channel_grant_outside_the_member_brands_operates_nothing(
    api: Api, tenant: Tenant, brands: dict[str, Any], make_token: TokenMaker
) -> None:
    token = make_token(tenant.person(Role.BRAND_MANAGER), tenant.org)
    theirs = brands["theirs"]["channel"]
    # The grant was made after the limit, behind the actions (which refuse it): it still counts for nothing.
    assert theirs.operator_grants.filter(user=tenant.person(Role.BRAND_MANAGER)).exists()
    assert api.get(f"/channels/{theirs.pk}/queue-slots", token).status == 404
    assert api.put(f"/channels/{theirs.pk}/queue-slots", token, {"slots": []}).status == 404


def test_brand_access_over_the_api(
    api: Api, tenant: Tenant, brands: dict[str, Any], make_token: TokenMaker, owner_token: str
) -> None:
    member = brands["member"]
    mine, theirs = brands["mine"]["brand"], brands["theirs"]["brand"]
    got = api.get(f"/members/{member.pk}/brands", owner_token)
    assert got.status == 200 and got.body == {"all_brands": False, "brand_ids": [mine.pk]}
    put = api.put(
        f"/members/{member.pk}/brands", owner_token, {"all_brands": False, "brand_ids": [theirs.pk]}
    )
    assert put.status == 200 and put.body == {"all_brands": False, "brand_ids": [theirs.pk]}
    entry = AuditEntry.objects.filter(action="member.brands").order_by("-pk").first()
    assert entry is not None and entry.changes["brands"] == [["Brand mine"], ["Brand theirs"]]
    # Its grant on the channel of "mine" went with the brand.
    assert not brands["mine"]["channel"].operator_grants.filter(user=member.user).exists()
    assert api.put(f"/members/{member.pk}/brands", owner_token, {"all_brands": True}).body == {
        "all_brands": True,
        "brand_ids": [],
    }
    assert not BrandAccess.objects.filter(membership=member).exists()


def test_brand_access_refusals_over_the_api(
    api: Api, tenant: Tenant, other: Tenant, brands: dict[str, Any], make_token: TokenMaker, owner_token: str
) -> None:
    member = brands["member"]
    foreign = brand_actions.create_brand(SYSTEM, other.org, name="Foreign")
    unknown = api.put(
        f"/members/{member.pk}/brands", owner_token, {"all_brands": False, "brand_ids": [foreign.pk]}
    )
    assert unknown.status == 422 and unknown.body["code"] == "unknown_brand"
    empty = api.put(f"/members/{member.pk}/brands", owner_token, {"all_brands": False, "brand_ids": []})
    assert empty.status == 422 and empty.body["code"] == "grant_refused"
    admin = Membership.objects.get(user=tenant.person(Role.ADMIN), organization=tenant.org)
    limited_admin = api.put(
        f"/members/{admin.pk}/brands",
        owner_token,
        {"all_brands": False, "brand_ids": [brands["mine"]["brand"].pk]},
    )
    assert limited_admin.status == 422 and limited_admin.body["code"] == "grant_refused"
    # Only people who manage members may change it; nobody outside the organization may even see it.
    analyst = make_token(tenant.person(Role.ANALYST), tenant.org)
    assert api.put(f"/members/{member.pk}/brands", analyst, {"all_brands": True}).status == 403
    ApiToken.objects.filter(user=tenant.person(Role.ANALYST)).update(scopes=list(ALL_SCOPES))
    refused = api.put(f"/members/{member.pk}/brands", analyst, {"all_brands": True})
    assert refused.status == 403 and refused.body["code"] == "permission_denied"
    outsider = make_token(other.owner, other.org, ALL_SCOPES)
    assert api.get(f"/members/{member.pk}/brands", outsider).status == 404
    assert api.get(f"/members/{member.pk}/brands", owner_token).body["brand_ids"] == [
        brands["mine"]["brand"].pk
    ]


ALL_SCOPES_OF_BRAND_MANAGER = ["brands:read", "brands:write", "posts:read", "posts:write"]
