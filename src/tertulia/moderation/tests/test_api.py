"""/api/v1 moderation: rules, dry run, the log, moderating by hand and approving — scopes, roles, tenancy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tertulia.api.actions import create_token
from tertulia.api.scopes import ALL_SCOPES, allowed_scopes
from tertulia.api.tests.conftest import Api
from tertulia.core.models import Role, User
from tertulia.core.permissions import membership, permissions_of
from tertulia.core.tests.factories import make_brand, make_org
from tertulia.moderation.choices import ActionStatus
from tertulia.moderation.models import ModerationAction, ModerationRule

from .conftest import INSULT, SPAM, SYSTEM, World, ingest_items, rule

pytestmark = pytest.mark.django_db

RULE = {
    "name": "Spam",
    "conditions": {"intents": ["spam"], "kinds": ["reply", "mention"]},
    "actions": [{"type": "hide"}, {"type": "tag", "tag": "spam"}],
}


def token(user: User, world: World, scopes: list[str] | None = None) -> str:
    """A token with `scopes`, or with every scope the person's role allows."""
    if scopes is None:
        scopes = allowed_scopes(permissions_of(membership(user, world.org)))
    _token, plaintext = create_token(SYSTEM, user, world.org, "t", scopes)
    return plaintext


@pytest.fixture
def api() -> Api:
    return Api()


def test_rules_crud_and_dry_run(world: World, api: Api, item) -> None:
    manager = token(world.manager, world)
    created = api.post(f"/brands/{world.brand.pk}/moderation/rules", manager, RULE)
    assert created.status == 201, created
    assert created.body["enabled"] is False and created.body["conditions"]["kinds"] == ["mention", "reply"]
    rule_id = created.body["id"]
    listed = api.get(f"/brands/{world.brand.pk}/moderation/rules", manager)
    assert [r["id"] for r in listed.body] == [rule_id]
    changed = api.patch(f"/moderation/rules/{rule_id}", manager, {"enabled": True, "name": "Spam fuera"})
    assert changed.status == 200 and changed.body["enabled"] and changed.body["name"] == "Spam fuera"
    ingest_items(world.channel, [item(SPAM)])
    report = api.post(f"/moderation/rules/{rule_id}/dry-run?days=7", manager)
    assert report.status == 200
    assert report.body["matched"] == 1 and report.body["days"] == 7
    assert report.body["outcomes"] == [
        {"action_type": "hide", "status": "applied", "count": 1},
        {"action_type": "tag", "status": "applied", "count": 1},
    ]
    assert api.post(f"/moderation/rules/{rule_id}/dry-run?days=31", manager).status == 422
    log = api.get("/moderation/actions", manager)
    assert log.status == 200 and log.body["count"] == 2  # the rule was on when the spam came in
    assert api.delete(f"/moderation/rules/{rule_id}", manager).status == 204
    assert not ModerationRule.objects.exists()
    assert ModerationAction.objects.count() == 2  # the log stays


@pytest.mark.parametrize(
    ("body", "where", "says"),
    [
        ({**RULE, "conditions": {"intent": ["spam"]}}, "conditions", "Unknown condition"),
        ({**RULE, "conditions": {}}, "conditions", "at least one condition"),
        ({**RULE, "conditions": {"min_followers": "many"}}, "conditions", "min_followers"),
        ({**RULE, "actions": [{"type": "nuke"}]}, "actions", "“nuke” is not one of"),
        ({**RULE, "actions": [{"type": "assign", "user": 999999}]}, "actions", "active member"),
        ({**RULE, "conditions": {"channels": [999999]}}, "conditions", "this brand's channels"),
    ],
)
def test_bad_rules_are_a_422_that_says_where(world: World, api: Api, body, where, says) -> None:
    response = api.post(f"/brands/{world.brand.pk}/moderation/rules", token(world.manager, world), body)
    assert response.status == 422, response
    errors = response.body["errors"]
    assert any(e["loc"] == ["body", where] and says in e["msg"] for e in errors), errors
    assert (
        api.post(
            f"/brands/{world.brand.pk}/moderation/rules",
            token(world.manager, world),
            {**RULE, "conditions": "spam"},
        ).status
        == 422
    )


def test_scopes_and_roles(world: World, api: Api, item) -> None:
    cm = token(world.cm, world)
    assert api.get(f"/brands/{world.brand.pk}/moderation/rules", cm).status == 200
    refused = api.post(f"/brands/{world.brand.pk}/moderation/rules", cm, RULE)
    assert refused.status == 403 and refused.body["code"] == "missing_scope"  # a CM cannot get that scope
    reader = token(world.manager, world, ["moderation:read"])
    assert api.post(f"/brands/{world.brand.pk}/moderation/rules", reader, RULE).status == 403
    [message] = ingest_items(world.channel, [item(SPAM)])
    assert api.post(f"/messages/{message.pk}/moderation", reader, {"action": "hide"}).status == 403


def test_moderating_and_approving(world: World, api: Api, item) -> None:
    [spam, insult] = ingest_items(
        world.channel, [item(SPAM, author="a"), item(INSULT, author="b", followers=20_000)]
    )
    cm, manager = token(world.cm, world), token(world.manager, world)
    hidden = api.post(f"/messages/{spam.pk}/moderation", cm, {"action": "hide", "reason": "spam"})
    assert hidden.status == 201 and hidden.body["status"] == ActionStatus.PENDING
    assert api.post(f"/messages/{spam.pk}/moderation", cm, {"action": "mute"}).status == 422
    no_reason = api.post(f"/messages/{insult.pk}/moderation", manager, {"action": "block"})
    assert no_reason.status == 422 and no_reason.body["code"] == "moderation_refused"
    asked = api.post(f"/messages/{insult.pk}/moderation", manager, {"action": "block", "reason": "insulta"})
    assert asked.status == 201 and asked.body["status"] == ActionStatus.AWAITING_APPROVAL
    action_id = asked.body["id"]
    own = api.post(f"/moderation/actions/{action_id}/approve", manager, {"note": ""})
    assert own.status == 403 and "yourself" in own.body["detail"]
    assert api.post(f"/moderation/actions/{action_id}/approve", cm, {}).status == 403  # no such scope
    owner = token(world.owner, world)
    approved = api.post(f"/moderation/actions/{action_id}/approve", owner, {"note": "vale"})
    assert approved.status == 200 and approved.body["decided_by_id"] == world.owner.pk
    again = api.post(f"/moderation/actions/{action_id}/reject", owner, {})
    assert again.status == 409 and again.body["code"] == "already_decided"
    one = api.get(f"/moderation/actions/{action_id}", cm)
    assert one.status == 200 and one.body["reason"].startswith("insulta")
    # Someone without a grant on the channel neither sees nor moderates its messages.
    outsider = token(world.outsider, world)
    assert api.get(f"/moderation/actions/{action_id}", outsider).status == 404
    assert api.get("/moderation/actions", outsider).body["count"] == 0
    assert api.post(f"/messages/{spam.pk}/moderation", outsider, {"action": "hide"}).status == 404


def test_another_organization_gets_404s(world: World, api: Api, item) -> None:
    mine = rule(world, {"intents": ["spam"]}, [{"type": "hide"}])
    [message] = ingest_items(world.channel, [item(SPAM)])
    action = ModerationAction.objects.get()
    rival_org = make_org("Rival")
    make_brand(rival_org, "Rival")
    rival_owner = rival_org.memberships.get(role=Role.OWNER).user
    _t, rival = create_token(SYSTEM, rival_owner, rival_org, "t", list(ALL_SCOPES))
    for method, path, body in (
        ("GET", f"/brands/{world.brand.pk}/moderation/rules", None),
        ("POST", f"/brands/{world.brand.pk}/moderation/rules", RULE),
        ("GET", f"/moderation/rules/{mine.pk}", None),
        ("PATCH", f"/moderation/rules/{mine.pk}", {"enabled": False}),
        ("DELETE", f"/moderation/rules/{mine.pk}", None),
        ("POST", f"/moderation/rules/{mine.pk}/dry-run", None),
        ("GET", f"/moderation/actions/{action.pk}", None),
        ("POST", f"/moderation/actions/{action.pk}/approve", {}),
        ("POST", f"/moderation/actions/{action.pk}/reject", {}),
        ("POST", f"/messages/{message.pk}/moderation", {"action": "hide"}),
    ):
        response = api.call(method, path, rival, body)
        assert response.status == 404, (method, path, response)
    assert api.get("/moderation/actions", rival).body["count"] == 0
    mine.refresh_from_db()
    assert mine.enabled


values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
conditions = st.dictionaries(
    st.sampled_from(
        ["intents", "sentiments", "languages", "text_matches", "min_followers", "customer", "channels", "x"]
    ),
    values,
    max_size=3,
)
actions = st.lists(
    st.dictionaries(
        st.sampled_from(["type", "tag", "text", "user"]), values | st.sampled_from(["hide", "tag"])
    ),
    max_size=3,
)


@pytest.fixture
def manager_token(world: World) -> str:
    return token(world.manager, world)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.fixed_dictionaries(
        {"name": st.text(max_size=20), "conditions": conditions | values, "actions": actions | values}
    )
)
def test_no_rule_body_causes_a_server_error(world: World, manager_token: str, body: dict[str, Any]) -> None:
    response = Api().call(
        "POST", f"/brands/{world.brand.pk}/moderation/rules", manager_token, raw=json.dumps(body)
    )
    assert response.status in (201, 422), (body, response)
