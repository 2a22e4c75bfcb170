"""Publishing through the API: a post from draft to published, with the same checks as the web."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.api.tests.conftest import Api, Tenant, TokenMaker
from tertulia.api.tests.publishing_helpers import *  # noqa: F403  # the fixtures
from tertulia.api.tests.publishing_helpers import draft
from tertulia.connectors.sandbox.models import SandboxPost
from tertulia.core.actions.channels import set_channel_operators
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Channel, Membership, Role
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.models import DeliveryTarget, Post, PostState, TargetState

pytestmark = pytest.mark.django_db


def _approval_by_approvers(api: Api, brand: Brand, owner_token: str) -> None:
    workflow = api.put(
        f"/brands/{brand.pk}/approval-workflows/normal",
        owner_token,
        {"steps": [{"name": "Legal", "mode": "any", "roles": ["approver"]}]},
    )
    assert workflow.status == 200, workflow
    assert workflow.body["configured"] and workflow.body["in_force"]


def test_a_post_from_draft_to_published(
    api: Api, tenant: Tenant, owner_token: str, tokens: dict[str, str], brand: Brand, channels: list[Channel]
) -> None:
    _approval_by_approvers(api, brand, owner_token)
    contributor, approver = tokens[Role.CONTRIBUTOR], tokens[Role.APPROVER]
    body = draft(channels, "¡Nuevo turrón! #navidad https://example.com/turron", utm_campaign="navidad")
    body["variants"][1]["text"] = "x" * 501  # over the sandbox's 500

    checked = api.post(f"/brands/{brand.pk}/posts/check", contributor, body)
    assert checked.status == 200 and checked.body["ok"] is False
    first, second = checked.body["channels"]
    assert first["ok"] and first["limit"] == 500 and first["unit"] == "characters"
    assert "utm_source=sandbox" in first["text"] and "utm_campaign=navidad" in first["text"]
    start = body["text"].index("#navidad")
    assert first["hashtags"] == [{"text": "#navidad", "start": start, "end": start + len("#navidad")}]
    assert first["remaining"] == 500 - first["length"] and first["links"][0]["text"].startswith("https://")
    assert second["remaining"] == -1 and second["errors"] and second["own_text"] is True
    assert not Post.objects.exists()  # checking saves nothing

    body["variants"][1]["text"] = "Turrón para @marca_api_1 👨‍👩‍👧"
    assert api.post(f"/brands/{brand.pk}/posts/check", contributor, body).body["ok"] is True
    created = api.post(f"/brands/{brand.pk}/posts", contributor, body)
    assert created.status == 201, created
    post = created.body
    assert post["state"] == "draft" and post["version"] == 1
    assert post["channel_ids"] == sorted(c.pk for c in channels)
    assert {v["channel_id"]: v["text"] for v in post["variants"]}[channels[1].pk] == body["variants"][1][
        "text"
    ]
    path = f"/posts/{post['id']}"

    submitted = api.post(f"{path}/submit", contributor)
    assert submitted.status == 200 and submitted.body["state"] == "in_review"
    review = submitted.body["review"]
    assert review["current_step"]["name"] == "Legal"
    assert review["current_step"]["approver_ids"] == [tenant.person(Role.APPROVER).pk]
    assert review["you_may_decide"] is False  # the author

    refused = api.post(f"{path}/approve", contributor, {"version": 1})
    assert refused.status == 403 and refused.body["code"] == "missing_scope"
    stale = api.post(f"{path}/approve", approver, {"version": 2})
    assert stale.status == 409 and stale.body["code"] == "version_conflict" and stale.body["version"] == 1
    seen = api.get(path, approver).body
    assert seen["review"]["you_may_decide"] is True
    approved = api.post(f"{path}/approve", approver, {"version": seen["version"], "comment": "OK legal"})
    assert approved.status == 200, approved
    # Neither the contributor nor the approver operates the channels: someone who does schedules it.
    assert approved.body["state"] == "approved"
    assert [(d["decision"], d["comment"]) for d in approved.body["review"]["decisions"]] == [
        ("approve", "OK legal")
    ]
    again = api.post(f"{path}/approve", approver, {"version": seen["version"]})
    assert again.status == 409 and again.body["code"] == "wrong_state"

    assert api.post(f"{path}/schedule", contributor, {}).body["code"] == "missing_scope"
    scheduled = api.post(f"{path}/schedule", owner_token, {"scheduled_at": None})
    assert scheduled.status == 200 and scheduled.body["state"] == "scheduled", scheduled
    deliveries = scheduled.body["deliveries"]
    assert len(deliveries) == 2 and {d["state"] for d in deliveries} == {"scheduled"}
    assert {d["channel_id"]: d["text"] for d in deliveries}[channels[1].pk].startswith("Turrón para")

    assert run_once("api-test") == 2
    published = api.get(path, contributor).body
    assert published["state"] == "published"
    for delivery in published["deliveries"]:
        remote = SandboxPost.objects.get(pk=int(delivery["remote_id"]))
        assert remote.text == delivery["text"]
        assert delivery["state"] == "sent" and delivery["url"].startswith("http")
        assert delivery["attempts"] == 1 and [a["outcome"] for a in delivery["history"]] == ["sent"]
        one = api.get(f"/deliveries/{delivery['id']}", contributor)
        assert one.status == 200 and one.body["remote_id"] == delivery["remote_id"]
    actions = set(
        AuditEntry.objects.filter(organization=tenant.org, via="api").values_list("action", flat=True)
    )
    assert {"post.created", "post.submitted", "post.approved", "post.scheduled"} <= actions


def test_a_stale_version_is_409_and_nothing_is_written(
    api: Api, owner_token: str, brand: Brand, channels: list[Channel]
) -> None:
    post = api.post(f"/brands/{brand.pk}/posts", owner_token, draft(channels, "primera")).body
    path = f"/posts/{post['id']}"
    mine = api.put(path, owner_token, {**draft(channels, "segunda"), "version": 1})
    assert mine.status == 200 and mine.body["version"] == 2 and mine.body["text"] == "segunda"
    theirs = api.put(path, owner_token, {**draft(channels[:1], "tercera"), "version": 1})
    assert theirs.status == 409 and theirs.body["code"] == "version_conflict"
    assert theirs.body["version"] == 2 and "reload" in theirs.body["detail"]
    now = api.get(path, owner_token).body
    assert now["text"] == "segunda" and now["channel_ids"] == sorted(c.pk for c in channels)
    assert api.put(path, owner_token, draft(channels, "sin versión")).status == 422


def test_editing_an_approved_post_sends_it_back_to_draft(
    api: Api, tenant: Tenant, owner_token: str, tokens: dict[str, str], brand: Brand, channels: list[Channel]
) -> None:
    _approval_by_approvers(api, brand, owner_token)
    post = api.post(f"/brands/{brand.pk}/posts", tokens[Role.CONTRIBUTOR], draft(channels)).body
    path = f"/posts/{post['id']}"
    api.post(f"{path}/submit", tokens[Role.CONTRIBUTOR])
    api.post(f"{path}/approve", tokens[Role.APPROVER], {"version": 1})
    assert api.get(path, owner_token).body["state"] == "approved"
    edited = api.put(path, tokens[Role.CONTRIBUTOR], {**draft(channels, "otra cosa"), "version": 1})
    assert edited.status == 200 and edited.body["state"] == "draft" and edited.body["version"] == 2
    # Someone else's post: a contributor may not edit it, nor cancel it.
    others = api.post(f"/brands/{brand.pk}/posts", owner_token, draft(channels)).body
    denied = api.put(f"/posts/{others['id']}", tokens[Role.CONTRIBUTOR], {**draft(channels), "version": 1})
    assert denied.status == 403 and denied.body["code"] == "permission_denied"
    assert denied.body["detail"] == "You may not edit this post."
    cancel = api.post(f"/posts/{others['id']}/cancel", tokens[Role.CONTRIBUTOR])
    assert cancel.status == 403 and cancel.body["detail"] == "You may not cancel this post."
    # Their own: cancelled once, then a conflict.
    assert api.post(f"{path}/cancel", tokens[Role.CONTRIBUTOR]).body["state"] == "cancelled"
    twice = api.post(f"{path}/cancel", tokens[Role.CONTRIBUTOR])
    assert twice.status == 409 and twice.body["code"] == "wrong_state" and twice.body["state"] == "cancelled"
    cancelled = api.put(path, tokens[Role.CONTRIBUTOR], {**draft(channels), "version": 2})
    assert cancelled.status == 409 and cancelled.body["code"] == "wrong_state"


def test_who_may_schedule(
    api: Api,
    tenant: Tenant,
    owner_token: str,
    tokens: dict[str, str],
    make_token: TokenMaker,
    brand: Brand,
    channels: list[Channel],
) -> None:
    # A contributor's token can never carry posts:publish.
    minted = api.post("/tokens", tokens[Role.CONTRIBUTOR], {"name": "x", "scopes": ["posts:publish"]})
    assert minted.status == 403 and minted.body["code"] == "scope_not_allowed"
    manager = tenant.person(Role.COMMUNITY_MANAGER)
    manager.language = "es"
    manager.save(update_fields=["language"])
    token = make_token(manager, tenant.org)
    # A community manager may publish: with no workflow, their own post is approved when sent.
    post = api.post(f"/brands/{brand.pk}/posts", token, draft(channels)).body
    path = f"/posts/{post['id']}"
    assert api.post(f"{path}/submit", token).body["state"] == "approved"
    # ...but only on channels they operate: the action's refusal, in their language.
    when = (timezone.now() + timedelta(hours=2)).isoformat()
    refused = api.post(f"{path}/schedule", token, {"scheduled_at": when})
    assert refused.status == 403 and refused.body["code"] == "permission_denied"
    assert refused.body["detail"] == f"No operas @{channels[0].handle}."
    set_channel_operators(Actor.system(), channels[0], [manager])
    set_channel_operators(Actor.system(), channels[1], [manager])
    done = api.post(f"{path}/schedule", token, {"scheduled_at": when})
    assert done.status == 200 and done.body["state"] == "scheduled"
    past = api.post(f"{path}/schedule", token, {"scheduled_at": "2001-01-01T00:00:00Z"})
    assert past.status == 422 and past.body["code"] == "scheduling_refused"
    # A role lowered after the token was made: the token is worth no more than its owner.
    Membership.objects.filter(organization=tenant.org, user=manager).update(role=Role.CONTRIBUTOR)
    lowered = api.post(f"{path}/schedule", token, {"scheduled_at": when})
    assert lowered.status == 403 and lowered.body["code"] == "permission_denied"
    assert Post.objects.get(pk=post["id"]).state == PostState.SCHEDULED


def test_review_refusals(
    api: Api, tenant: Tenant, owner_token: str, tokens: dict[str, str], brand: Brand, channels: list[Channel]
) -> None:
    api.put(
        f"/brands/{brand.pk}/approval-workflows/normal",
        owner_token,
        {"steps": [{"name": "Dirección", "roles": ["owner", "admin"]}]},
    )
    post = api.post(f"/brands/{brand.pk}/posts", owner_token, draft(channels)).body
    path = f"/posts/{post['id']}"
    empty = api.post(f"/brands/{brand.pk}/posts", owner_token, {"text": "sin canales"}).body
    not_ready = api.post(f"/posts/{empty['id']}/submit", owner_token)
    assert not_ready.status == 422 and not_ready.body["code"] == "review_refused"
    assert api.post(f"{path}/submit", owner_token).body["state"] == "in_review"
    own = api.post(f"{path}/approve", owner_token, {"version": 1})
    assert own.status == 403 and own.body["detail"].startswith("Nobody approves their own post")
    analyst = api.post(f"{path}/approve", tokens[Role.ANALYST], {"version": 1})
    assert analyst.status == 403 and analyst.body["code"] == "missing_scope"
    manager = api.post(f"{path}/approve", tokens[Role.BRAND_MANAGER], {"version": 1})
    assert manager.status == 403 and "not an approver" in manager.body["detail"]
    no_comment = api.post(f"{path}/request-changes", tokens[Role.ADMIN], {"version": 1, "comment": ""})
    assert no_comment.status == 422 and no_comment.body["code"] == "validation_error"
    blank = api.post(f"{path}/request-changes", tokens[Role.ADMIN], {"version": 1, "comment": "   "})
    assert blank.status == 422 and blank.body["code"] == "review_refused"
    changes = api.post(
        f"{path}/request-changes", tokens[Role.ADMIN], {"version": 1, "comment": "Cambia el tono"}
    )
    assert changes.status == 200 and changes.body["state"] == "changes_requested"
    said = api.post(f"{path}/comments", tokens[Role.CONTRIBUTOR], {"text": "Yo no soy la autora, pero opino"})
    assert said.status == 201 and said.body["version"] == 1
    reply = api.post(f"{path}/comments", tokens[Role.APPROVER], {"text": "Y yo también"})
    assert reply.status == 201
    assert [c["text"] for c in api.get(path, owner_token).body["comments"]] == [
        "Yo no soy la autora, pero opino",
        "Y yo también",
    ]
    assert api.post(f"{path}/comments", tokens[Role.ANALYST], {"text": "x"}).body["code"] == "missing_scope"
    withdrawn = api.post(f"{path}/withdraw", owner_token)
    assert withdrawn.status == 200 and withdrawn.body["state"] == "draft"
    again = api.post(f"{path}/withdraw", owner_token)
    assert again.status == 409 and again.body["code"] == "wrong_state"
    duplicated = api.post(f"{path}/duplicate", tokens[Role.CONTRIBUTOR])
    assert duplicated.status == 201 and duplicated.body["state"] == "draft"
    assert duplicated.body["created_by_id"] == tenant.person(Role.CONTRIBUTOR).pk
    assert (
        duplicated.body["channel_ids"] == post["channel_ids"] and duplicated.body["review"]["decisions"] == []
    )


def test_deliveries_retried_and_confirmed_by_hand(
    api: Api, owner_token: str, tokens: dict[str, str], brand: Brand, channels: list[Channel]
) -> None:
    post = api.post(f"/brands/{brand.pk}/posts", owner_token, draft(channels)).body
    api.post(f"/posts/{post['id']}/submit", owner_token)
    scheduled = api.get(f"/posts/{post['id']}", owner_token).body
    assert scheduled["state"] == "approved"  # no time: approved, waiting for one
    scheduled = api.post(f"/posts/{post['id']}/schedule", owner_token, {}).body
    first, second = (d["id"] for d in scheduled["deliveries"])
    busy = api.post(f"/deliveries/{first}/retry", owner_token)
    assert busy.status == 409 and busy.body["code"] == "wrong_state" and busy.body["state"] == "scheduled"
    DeliveryTarget.objects.filter(pk=first).update(state=TargetState.NEEDS_ATTENTION, last_error="¿?")
    DeliveryTarget.objects.filter(pk=second).update(state=TargetState.FAILED, last_error="refused")
    bad = api.post(f"/deliveries/{first}/confirm-published", owner_token, {"url": "javascript:alert(1)"})
    assert bad.status == 422 and bad.body["errors"][0]["loc"] == ["body", "url"]
    confirmed = api.post(
        f"/deliveries/{first}/confirm-published", owner_token, {"url": "https://example.com/p/1"}
    )
    assert confirmed.status == 200 and confirmed.body["state"] == "sent"
    assert confirmed.body["url"] == "https://example.com/p/1"
    not_stuck = api.post(f"/deliveries/{second}/confirm-published", owner_token, {"url": ""})
    assert not_stuck.status == 409 and not_stuck.body["code"] == "wrong_state"
    unpermitted = api.post(f"/deliveries/{second}/retry", tokens[Role.CONTRIBUTOR])
    assert unpermitted.status == 403 and unpermitted.body["code"] == "missing_scope"
    retried = api.post(f"/deliveries/{second}/retry", owner_token)
    assert retried.status == 200 and retried.body["state"] == "due" and retried.body["last_error"] == ""
    assert run_once("api-retry") == 1
    assert api.get(f"/posts/{post['id']}", owner_token).body["state"] == "published"


def test_lists_and_filters(
    api: Api, tenant: Tenant, owner_token: str, tokens: dict[str, str], brand: Brand, channels: list[Channel]
) -> None:
    soon = timezone.now() + timedelta(days=1)
    later = timezone.now() + timedelta(days=10)
    mine = api.post(
        f"/brands/{brand.pk}/posts", tokens[Role.CONTRIBUTOR], draft(channels, scheduled_at=soon.isoformat())
    ).body
    theirs = api.post(
        f"/brands/{brand.pk}/posts", owner_token, draft(channels[:1], scheduled_at=later.isoformat())
    ).body
    api.post(f"/posts/{theirs['id']}/submit", owner_token)
    everything = api.get("/posts", tokens[Role.ANALYST])
    assert everything.status == 200 and everything.body["count"] == 2
    assert [p["id"] for p in everything.body["items"]] == [theirs["id"], mine["id"]]  # newest first
    assert everything.body["items"][1]["channel_ids"] == sorted(c.pk for c in channels)
    by_me = api.get("/posts?author=me", tokens[Role.CONTRIBUTOR]).body
    assert [p["id"] for p in by_me["items"]] == [mine["id"]]
    by_id = api.get(f"/posts?author={tenant.owner.pk}", tokens[Role.ANALYST]).body
    assert [p["id"] for p in by_id["items"]] == [theirs["id"]]
    assert api.get("/posts?author=nobody", owner_token).status == 422
    drafts = api.get("/posts?state=draft", owner_token).body
    assert [p["id"] for p in drafts["items"]] == [mine["id"]]
    both = api.get("/posts?state=draft&state=scheduled", owner_token).body
    assert both["count"] == 2
    window = (soon - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    end = (soon + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    between = api.get(f"/posts?scheduled_from={window}&scheduled_to={end}", owner_token).body
    assert [p["id"] for p in between["items"]] == [mine["id"]]
    assert api.get(f"/posts?brand_id={brand.pk}&limit=1", owner_token).body["count"] == 2
    assert api.get("/posts?state=bogus", owner_token).status == 422
    verdicts = api.get(f"/posts/{mine['id']}/verdicts", tokens[Role.ANALYST])
    assert verdicts.status == 200 and verdicts.body["ok"] and len(verdicts.body["channels"]) == 2
