"""Replies reach the network exactly once: stored first, retried by the sweep, reconciled before a retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.connectors.base import TemporaryFailure
from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.connector import SandboxConnector
from tertulia.connectors.sandbox.models import SandboxMessage, SandboxPost
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.inbox import delivery
from tertulia.inbox.actions import replies
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, Delivery, Message, ResponseTarget

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def _mention(channel: Channel, text: str = "¿Tenéis sobrasada?") -> Conversation:
    post = network.post(network.create_account("clienta_entrega"), f"@{channel.handle.lstrip('@')} {text}")
    ingest(channel, connector_for(channel).fetch_inbound().items)
    return Message.objects.get(channel=channel, remote_id=str(post.pk)).conversation


def _dm(channel: Channel) -> Conversation:
    customer = network.create_account("cliente_dm")
    network.send_dm(customer, network.get_account(channel.handle), "Hola, una duda privada")
    ingest(channel, connector_for(channel).fetch_inbound().items)
    return Conversation.objects.get(channel=channel, kind="direct")


def test_a_reply_answers_the_customers_post_and_stops_the_clock(channel: Channel) -> None:
    conversation = _mention(channel)
    reply = replies.send_reply(SYSTEM, conversation, "¡Sí! Mallorquina.", idempotency_key="r1")
    assert reply.delivery == Delivery.SENDING
    assert delivery.deliver(reply.pk) == Delivery.SENT
    reply.refresh_from_db()
    sent = SandboxPost.objects.get(pk=int(reply.remote_id))
    customer_post = Message.objects.get(conversation=conversation, direction="in")
    assert sent.in_reply_to_id == int(customer_post.remote_id) and sent.text == "¡Sí! Mallorquina."
    conversation.refresh_from_db()
    assert conversation.message_count == 2 and conversation.awaiting_since is None
    assert ResponseTarget.objects.get(conversation=conversation).outcome == ResponseTarget.Outcome.MET
    assert delivery.deliver(reply.pk) == Delivery.SENT  # again: nothing happens
    assert SandboxPost.objects.filter(text="¡Sí! Mallorquina.").count() == 1


def test_a_dm_conversation_is_answered_by_dm(channel: Channel) -> None:
    conversation = _dm(channel)
    reply = replies.send_reply(SYSTEM, conversation, "Te escribimos por aquí.")
    assert delivery.deliver(reply.pk) == Delivery.SENT
    assert SandboxMessage.objects.filter(text="Te escribimos por aquí.").count() == 1


def test_a_temporary_failure_is_retried_by_the_sweep_without_posting_twice(
    channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = _mention(channel)
    reply = replies.send_reply(SYSTEM, conversation, "Respuesta", idempotency_key="twice")
    real_publish = SandboxConnector.publish

    def publish_then_lose_the_answer(self: SandboxConnector, post: object) -> object:
        real_publish(self, post)  # type: ignore[arg-type]  # the OutgoingPost the connector was given
        raise TemporaryFailure("connection reset after sending")

    monkeypatch.setattr(SandboxConnector, "publish", publish_then_lose_the_answer)
    assert delivery.deliver(reply.pk) == Delivery.SENDING
    reply.refresh_from_db()
    assert reply.delivery_error and reply.delivery == Delivery.SENDING
    monkeypatch.setattr(SandboxConnector, "publish", real_publish)
    assert delivery.stalled() == []  # too soon
    assert delivery.stalled(timezone.now() + timedelta(minutes=2)) == [reply.pk]
    assert delivery.deliver(reply.pk, retrying=True) == Delivery.SENT  # found by its key, not posted again
    assert SandboxPost.objects.filter(text="Respuesta").count() == 1


def test_a_final_refusal_marks_it_failed_and_it_can_be_retried(channel: Channel) -> None:
    conversation = _mention(channel)
    customer_post = Message.objects.get(conversation=conversation, direction="in")
    network.delete(
        network.get_post(customer_post.remote_id).author, network.get_post(customer_post.remote_id)
    )
    reply = replies.send_reply(SYSTEM, conversation, "¿Sigues ahí?")
    assert delivery.deliver(reply.pk) == Delivery.FAILED
    reply.refresh_from_db()
    assert reply.delivery_error
    conversation.refresh_from_db()
    assert conversation.awaiting_since is not None  # not answered: the clock runs on
    replies.retry_reply(SYSTEM, reply)
    reply.refresh_from_db()
    assert reply.delivery == Delivery.SENDING
    with pytest.raises(ActionRefused):
        replies.retry_reply(SYSTEM, Message.objects.get(conversation=conversation, direction="in"))


def test_the_same_key_is_one_reply_and_empty_text_is_refused(channel: Channel) -> None:
    conversation = _mention(channel)
    first = replies.send_reply(SYSTEM, conversation, "Hola", idempotency_key="same")
    assert replies.send_reply(SYSTEM, conversation, "Hola", idempotency_key="same").pk == first.pk
    for bad in ["", "   ", "x" * (replies.MAX_REPLY + 1)]:
        with pytest.raises(ActionRefused):
            replies.send_reply(SYSTEM, conversation, bad)
