"""Property: no JSON body, however odd, makes a write endpoint fail with a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tertulia.core.models import Brand, Channel, Competitor, Contact, ContactHandle, Membership, Objective

from .conftest import Api, Tenant

pytestmark = pytest.mark.django_db

FIELDS = [
    "name",
    "display_name",
    "title",
    "notes",
    "handle",
    "handles",
    "network",
    "status",
    "role",
    "is_active",
    "is_customer",
    "is_archived",
    "reach_threshold",
    "followers_count",
    "target",
    "kpi",
    "direction",
    "period_start",
    "period_end",
    "website",
    "profile_url",
    "user_ids",
    "scopes",
    "expires_at",
    "language",
    "timezone",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300)
    | st.sampled_from(
        ["2025-01-01", "9999-12-31T23:59:59-12:00", "sandbox", "owner", "paused", "sla_met", "1e400"]
    )
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
    st.dictionaries(st.text(max_size=10), values, max_size=3),
    values,
)


def _targets(tenant: Tenant) -> list[tuple[str, str]]:
    org = tenant.org
    brand = Brand.objects.create(organization=org, name="Fuzz", slug="fuzz")
    competitor = Competitor.objects.create(brand=brand, name="c")
    objective = Objective.objects.create(
        brand=brand, title="o", kpi="sla_met", target=1, period_start="2025-01-01", period_end="2025-02-01"
    )
    channel = Channel.objects.create(organization=org, brand=brand, network="sandbox", handle="fuzz")
    contact = Contact.objects.create(organization=org, display_name="c")
    handle = ContactHandle.objects.create(organization=org, contact=contact, network="sandbox", handle="fuzz")
    member = Membership.objects.filter(organization=org).exclude(user=tenant.owner).first()
    assert member is not None
    return [
        ("POST", "/brands"),
        ("PATCH", f"/brands/{brand.pk}"),
        ("POST", f"/brands/{brand.pk}/competitors"),
        ("PATCH", f"/competitors/{competitor.pk}"),
        ("POST", f"/brands/{brand.pk}/objectives"),
        ("PATCH", f"/objectives/{objective.pk}"),
        ("POST", f"/brands/{brand.pk}/channels"),
        ("PATCH", f"/channels/{channel.pk}"),
        ("PUT", f"/channels/{channel.pk}/operators"),
        ("POST", "/contacts"),
        ("PATCH", f"/contacts/{contact.pk}"),
        ("POST", f"/contacts/{contact.pk}/handles"),
        ("PATCH", f"/members/{member.pk}"),
        ("POST", "/tokens"),
        ("DELETE", f"/contacts/{contact.pk}/handles/{handle.pk}"),
    ]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_bodies_never_cause_a_server_error(tenant: Tenant, owner_token: str, data: Any) -> None:
    api = Api()
    if not hasattr(tenant, "_fuzz_targets"):
        tenant._fuzz_targets = _targets(tenant)  # type: ignore[attr-defined]  # cached on the fixture
    method, path = data.draw(st.sampled_from(tenant._fuzz_targets))  # type: ignore[attr-defined]  # cached on the fixture
    body = data.draw(bodies)
    response = api.call(method, path, owner_token, raw=json.dumps(body))
    assert response.status < 500, (method, path, body, response)
    assert response.status in {200, 201, 204} or response.body["detail"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200) | st.text(max_size=200))
def test_random_bytes_never_cause_a_server_error(tenant: Tenant, owner_token: str, raw: bytes | str) -> None:
    response = Api().call("POST", "/contacts", owner_token, raw=raw)
    assert 400 <= response.status < 500 or response.status == 201, (raw, response)
