"""GET /contacts/{id}/profile and POST /contacts/{id}/merge: scopes, roles, tenancy, shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tertulia.connectors.base import InboundItem, InboundKind, RemoteAuthor
from tertulia.core.actions.channels import connect_channel
from tertulia.core.models import AuditEntry, Brand, Channel, ChannelOperator, Contact, ContactHandle, Role
from tertulia.inbox.ingest.pipeline import ingest

from .conftest import SYSTEM, Api, Tenant, TokenMaker

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
FUZZ_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300)
    | st.lists(st.integers(), max_size=3)
)


@pytest.fixture
def brand(tenant: Tenant) -> Brand:
    brand = Brand.objects.create(organization=tenant.org, name="Marca", slug="marca", reach_threshold=1000)
    return brand


@pytest.fixture
def channel(brand: Brand) -> Channel:
    return connect_channel(SYSTEM, brand, "sandbox", "@marca")


def _say(
    channel: Channel, n: int, text: str, author: str = "ana", followers: int = 50, key: str = ""
) -> Contact:
    ingest(
        channel,
        [
            InboundItem(
                remote_id=f"m{n}",
                kind=InboundKind.DIRECT_MESSAGE if key else InboundKind.MENTION,
                author=RemoteAuthor(remote_id=f"id-{author}", handle=author, followers_count=followers),
                text=text,
                created_at=T0 + timedelta(minutes=n),
                conversation_key=key,
            )
        ],
    )
    return ContactHandle.objects.get(organization=channel.organization, handle=author).contact


def test_the_profile_of_a_contact_for_a_brand(
    api: Api, owner_token: str, brand: Brand, channel: Channel
) -> None:
    contact = _say(channel, 1, "¿Abrís el domingo?", followers=1500, key="dm-ana")
    _say(channel, 2, "<script>alert(1)</script>", followers=1500)
    Contact.objects.filter(pk=contact.pk).update(is_customer=True, notes="Compra los lunes")

    response = api.get(f"/contacts/{contact.pk}/profile?brand={brand.pk}", owner_token)
    assert response.status == 200, response
    body = response.body
    assert body["contact_id"] == contact.pk and body["brand_id"] == brand.pk
    assert body["display_name"] == "ana" and body["notes"] == "Compra los lunes"
    assert body["handles"] == [
        {
            "id": body["handles"][0]["id"],
            "network": "sandbox",
            "handle": "ana",
            "followers": 1500,
            "profile_url": "",
        }
    ]
    assert body["reach"] == 1500
    flags = {k: body[k] for k in ("customer", "vip", "influencer", "regular", "important")}
    assert flags == {"customer": True, "vip": False, "influencer": True, "regular": False, "important": True}
    history = body["history"]
    assert history["conversations"] == 2 and history["messages_in"] == 2 and history["messages_out"] == 0
    assert sum(history["sentiments"].values()) == 2 and sum(history["intents"].values()) == 2
    assert [c["preview"] for c in history["latest"]] == ["<script>alert(1)</script>", "¿Abrís el domingo?"]
    assert history["latest"][0]["channel_handle"] == channel.handle
    assert history["first_contact_at"].startswith("2026-11-20T10:01")


def test_profile_scopes_roles_and_tenancy(
    api: Api,
    tenant: Tenant,
    other: Tenant,
    make_token: TokenMaker,
    brand: Brand,
    channel: Channel,
    other_token: str,
) -> None:
    contact = _say(channel, 1, "hola")
    path = f"/contacts/{contact.pk}/profile?brand={brand.pk}"

    analyst = make_token(tenant.person(Role.ANALYST), tenant.org)
    seen = api.get(path, analyst)
    assert seen.status == 200
    assert (
        seen.body["history"]["conversations"] == 1 and seen.body["history"]["latest"] == []
    )  # not an operator

    agent = tenant.person(Role.COMMUNITY_MANAGER)
    ChannelOperator.objects.create(channel=channel, user=agent)
    assert len(api.get(path, make_token(agent, tenant.org)).body["history"]["latest"]) == 1

    contributor = make_token(tenant.person(Role.CONTRIBUTOR), tenant.org)
    assert api.get(path, contributor).body["code"] == "missing_scope"  # a contributor may not hold it
    narrow = make_token(tenant.owner, tenant.org, ["brands:read"])
    assert api.get(path, narrow).status == 403

    assert api.get(path, other_token).status == 404  # another organization's contact
    rival_brand = Brand.objects.create(organization=other.org, name="Rival", slug="rival")
    owner_token = make_token(tenant.owner, tenant.org)
    assert api.get(f"/contacts/{contact.pk}/profile?brand={rival_brand.pk}", owner_token).status == 404
    assert api.get(f"/contacts/{contact.pk}/profile", owner_token).status == 422
    assert api.get(f"/contacts/{contact.pk}/profile?brand=0", owner_token).status == 422
    assert api.get(f"/contacts/{contact.pk}/profile?brand=99999999999999999999", owner_token).status == 422


def test_profile_queries_do_not_grow_with_history(
    api: Api, owner_token: str, brand: Brand, channel: Channel
) -> None:
    contact = _say(channel, 1, "hola", key="dm-0")
    path = f"/contacts/{contact.pk}/profile?brand={brand.pk}"
    api.get(path, owner_token)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(path, owner_token).status == 200
        return len(captured)

    few = queries()
    for n in range(2, 50):
        _say(channel, n, f"mensaje {n}", key=f"dm-{n % 12}" if n % 2 else "")
    assert queries() == few


def test_merge_through_the_api(
    api: Api, tenant: Tenant, make_token: TokenMaker, owner_token: str, channel: Channel
) -> None:
    into = _say(channel, 1, "hola", author="ana_x")
    other = _say(channel, 2, "hola", author="ana_bsky")
    Contact.objects.filter(pk=other.pk).update(is_vip=True)

    analyst = make_token(tenant.person(Role.ANALYST), tenant.org)
    assert api.post(f"/contacts/{into.pk}/merge", analyst, {"other": other.pk}).status == 403
    assert (
        api.post(f"/contacts/{into.pk}/merge", owner_token, {"other": into.pk}).body["code"]
        == "merge_refused"
    )
    assert api.post(f"/contacts/{into.pk}/merge", owner_token, {"other": 0}).status == 422
    assert api.post(f"/contacts/{into.pk}/merge", owner_token, {"other": other.pk, "x": 1}).status == 422

    response = api.post(f"/contacts/{into.pk}/merge", owner_token, {"other": other.pk, "reason": "misma bio"})
    assert response.status == 200, response
    assert response.body["id"] == into.pk and response.body["is_vip"] is True
    assert sorted(h["handle"] for h in response.body["handles"]) == ["ana_bsky", "ana_x"]
    assert not Contact.objects.filter(pk=other.pk).exists()
    entry = AuditEntry.objects.get(action="contact.merge")
    assert entry.via == "api" and entry.changes["reason"] == "misma bio"
    assert api.post(f"/contacts/{into.pk}/merge", owner_token, {"other": other.pk}).status == 404


def test_merge_never_crosses_organizations(
    api: Api, tenant: Tenant, other: Tenant, owner_token: str, other_token: str
) -> None:
    mine = Contact.objects.create(organization=tenant.org, display_name="Ana")
    theirs = Contact.objects.create(organization=other.org, display_name="Ana")
    assert api.post(f"/contacts/{mine.pk}/merge", owner_token, {"other": theirs.pk}).status == 404
    assert api.post(f"/contacts/{theirs.pk}/merge", owner_token, {"other": mine.pk}).status == 404
    assert api.post(f"/contacts/{mine.pk}/merge", other_token, {"other": theirs.pk}).status == 404
    assert Contact.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2


def test_is_vip_is_read_and_written(api: Api, owner_token: str) -> None:
    created = api.post("/contacts", owner_token, {"display_name": "Periodista", "is_vip": True})
    assert created.status == 201 and created.body["is_vip"] is True
    changed = api.patch(f"/contacts/{created.body['id']}", owner_token, {"is_vip": False})
    assert changed.status == 200 and changed.body["is_vip"] is False
    assert api.patch(f"/contacts/{created.body['id']}", owner_token, {"is_vip": None}).status == 422


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.dictionaries(st.sampled_from(["other", "reason", "x"]), FUZZ_VALUES, max_size=3) | FUZZ_VALUES)
def test_odd_merge_bodies_never_cause_a_server_error(tenant: Tenant, owner_token: str, body: Any) -> None:
    into, _ = Contact.objects.get_or_create(organization=tenant.org, display_name="fuzz")
    response = Api().call("POST", f"/contacts/{into.pk}/merge", owner_token, raw=json.dumps(body))
    assert response.status < 500, (body, response)
    assert Contact.objects.filter(pk=into.pk).exists()
