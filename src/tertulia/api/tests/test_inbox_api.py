"""The inbox through the API: everything the web inbox does, with the same checks."""

from __future__ import annotations

import pytest

from tertulia.api.tests.conftest import Api, Tenant, TokenMaker
from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox import network
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, ChannelOperator, Role
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(tenant: Tenant) -> Channel:
    brand = Brand.objects.create(organization=tenant.org, name="Marca", slug="marca")
    return connect_channel(Actor.system(), brand, "sandbox", "@marca_api")


def _customer_writes(channel: Channel, text: str, handle: str = "cliente_api") -> Conversation:
    post = network.post(network.create_account(handle), f"@{channel.handle.lstrip('@')} {text}")
    ingest(channel, connector_for(channel).fetch_inbound().items)
    return Message.objects.get(channel=channel, remote_id=str(post.pk)).conversation


def test_list_filter_search_and_page(api: Api, tenant: Tenant, owner_token: str, channel: Channel) -> None:
    for n in range(3):
        _customer_writes(channel, f"pregunta número {n} sobre jamón", handle=f"persona{n}")
    _customer_writes(channel, "<b>queja</b> muy mala experiencia, es una vergüenza", handle="enfadado")
    path = f"/brands/{channel.brand_id}/conversations"
    everything = api.get(path, owner_token)
    assert everything.status == 200 and len(everything.body["items"]) == 4
    first = api.get(f"{path}?limit=2", owner_token)
    second = api.get(f"{path}?limit=2&after={first.body['next_cursor']}", owner_token)
    ids = [c["id"] for c in first.body["items"] + second.body["items"]]
    assert len(set(ids)) == 4 and second.body["next_cursor"] is None
    found = api.get(f"{path}?q=jamon", owner_token)
    assert len(found.body["items"]) == 3  # accents folded: "jamon" finds "jamón"
    assert api.get(f"{path}?after=nonsense", owner_token).status == 422
    assert api.get(f"{path}?status=bogus", owner_token).status == 422


def test_work_a_conversation(
    api: Api, tenant: Tenant, owner_token: str, channel: Channel, django_capture_on_commit_callbacks
) -> None:
    conversation = _customer_writes(channel, "¿Tenéis turrón sin azúcar?")
    path = f"/conversations/{conversation.pk}"
    agent = tenant.person(Role.COMMUNITY_MANAGER)
    ChannelOperator.objects.create(channel=channel, user=agent)
    assert api.patch(path, owner_token, {"assignee_id": agent.pk}).body["assignee_id"] == agent.pk
    assert api.post(f"{path}/tags", owner_token, {"add": ["Navidad"]}).body["tags"] == ["navidad"]
    note = api.post(f"{path}/notes", owner_token, {"text": "@community_manager mira esto"})
    assert note.status == 201 and note.body["mention_ids"] == [agent.pk]
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(f"{path}/replies", owner_token, {"text": "¡Sí, desde 12 €!", "idempotency_key": "a1"})
    assert sent.status == 202
    again = api.post(f"{path}/replies", owner_token, {"text": "¡Sí, desde 12 €!", "idempotency_key": "a1"})
    assert again.body["id"] == sent.body["id"]
    detail = api.get(path, owner_token).body
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]
    assert detail["messages"][1]["delivery"] == "sent" and detail["first_response_at"] is not None
    assert api.patch(path, owner_token, {"status": "snoozed"}).status == 422  # a snooze needs a time
    assert api.patch(path, owner_token, {"status": "closed"}).body["status"] == "closed"
    assert api.post(f"{path}/escalation", owner_token, {"reason": "cliente VIP"}).body["escalated_at"]
    assert api.delete(f"{path}/escalation", owner_token).body["escalated_at"] is None
    bulk = api.post("/conversations/bulk", owner_token, {"ids": [conversation.pk, 999999], "action": "open"})
    assert bulk.body["done"] == 1 and bulk.body["refused"] == [{"id": 999999, "reason": "not found"}]
    notifications = api.get("/notifications", owner_token)
    assert notifications.status == 200


def test_other_organizations_and_ungranted_channels_are_invisible(
    api: Api, tenant: Tenant, other_token: str, make_token: TokenMaker, channel: Channel
) -> None:
    conversation = _customer_writes(channel, "hola")
    assert api.get(f"/conversations/{conversation.pk}", other_token).status == 404
    assert api.get(f"/brands/{channel.brand_id}/conversations", other_token).status == 404
    agent_token = make_token(tenant.person(Role.COMMUNITY_MANAGER), tenant.org)
    assert api.get(f"/conversations/{conversation.pk}", agent_token).status == 404  # not an operator
    assert api.get(f"/brands/{channel.brand_id}/conversations", agent_token).body["items"] == []
    analyst_token = make_token(tenant.person(Role.ANALYST), tenant.org)
    assert api.post(f"/conversations/{conversation.pk}/notes", analyst_token, {"text": "x"}).status == 403


def test_availability_through_the_api(api: Api, owner_token: str) -> None:
    assert api.get("/availability", owner_token).body == {"available": True, "capacity": 25}
    assert api.put("/availability", owner_token, {"available": False, "capacity": 3}).body == {
        "available": False,
        "capacity": 3,
    }
    assert api.put("/availability", owner_token, {"available": True, "capacity": -1}).status == 422
    assert api.get("/availability", owner_token).body == {"available": False, "capacity": 3}
