"""The issues' promise, end to end: connect a Bluesky account from Settings, see its mentions in the
inbox, and answer one from the conversation page — the answer is a reply in the customer's thread on
the network.

Runs through the real web views (sign-in session, CSRF-exempt test client posting the
same form a person fills in) against the Bluesky reference servers.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tertulia.connectors.bluesky.tests.conftest import Devnet
from tertulia.core.models import Channel, User
from tertulia.core.tests.factories import make_brand, make_org, make_user
from tertulia.inbox.ingest import poller
from tertulia.inbox.models import Conversation, Delivery, Direction, Message
from tertulia.vault.models import Credential
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_connect_bluesky_from_settings_see_its_mentions_and_answer_one(
    devnet: Devnet, django_capture_on_commit_callbacks: Any
) -> None:
    owner: User = make_user()
    brand = make_brand(make_org(owner=owner), "Marca en Bluesky")
    brand_account = devnet.create_account("marca")
    customer = devnet.create_account("clienta")
    client = signed_in(owner)
    app_password = devnet.app_password(brand_account)

    response = client.post(
        reverse("web:channel-connect"),
        {
            "network": "bluesky",
            "handle": brand_account.handle,
            "password": app_password,
            "server": devnet.pds,
        },
        follow=True,
    )
    assert response.status_code == 200
    channel = Channel.objects.get(network="bluesky", brand=brand)
    assert channel.external_id == brand_account.did
    assert Credential.objects.filter(channel=channel).exists()
    assert app_password not in response.content.decode()

    asked = customer.post(f"Hola @{brand_account.handle}, ¿hacéis envíos a Canarias? 🏝️")
    devnet.process_all()
    # What a worker's ticker does: read the channel into the inbox through the pipeline.
    poller.ensure_cursors()
    assert [poller.poll(cursor_id) for cursor_id in poller.claim_due()] == [1]

    activity = client.get(reverse("web:inbox-list")).content.decode()
    assert "hacéis envíos a Canarias" in activity
    assert customer.handle in activity

    conversation = Conversation.objects.get(channel=channel)
    page = client.get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    assert "hacéis envíos a Canarias" in page
    with django_capture_on_commit_callbacks(execute=True):  # the delivery task runs after commit
        client.post(
            reverse("web:conversation-reply", args=[conversation.pk]),
            {"text": "¡Hola! Sí, en 72 horas 📦", "idempotency_key": "bsky-reply-1"},
        )
    reply = Message.objects.get(conversation=conversation, direction=Direction.OUTBOUND)
    assert reply.delivery == Delivery.SENT, reply.delivery_error
    devnet.process_all()
    thread = customer.client.get_post_thread(asked.uri).thread
    answers = [r.post for r in (thread.replies or [])]
    assert [(a.author.did, a.record.text) for a in answers] == [
        (brand_account.did, "¡Hola! Sí, en 72 horas 📦")
    ]
    assert answers[0].uri == reply.remote_id
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None and conversation.awaiting_since is None
