"""Webhooks end to end: emitted in a transaction, delivered after it commits to a real HTTP server,
signed so the documented snippet verifies, retried on failure and given up on after MAX_ATTEMPTS."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from tertulia import webhooks
from tertulia.core.models import AuditEntry
from tertulia.core.tests.factories import make_org
from tertulia.core.tests.outbound_server import Seen
from tertulia.vault import actions as vault_actions
from tertulia.vault.keys import add_key
from tertulia.webhooks import actions, delivery, events, signing
from tertulia.webhooks.models import Delivery, DeliveryState, Endpoint, Format
from tertulia.webhooks.sealing import open_endpoint
from tertulia.webhooks.tests.conftest import SYSTEM

pytestmark = pytest.mark.django_db

HELD = "security.post_held"


def endpoint_for(org, url, *, kinds=(HELD,), format=Format.GENERIC, name="Security desk"):
    return actions.create_endpoint(SYSTEM, org, name=name, url=url, format=format, event_types=kinds)


def waited(sent: Delivery) -> timedelta:
    """How long after its last attempt the delivery is due again."""
    assert sent.next_attempt_at is not None and sent.last_attempt_at is not None
    return sent.next_attempt_at - sent.last_attempt_at


def emit_now(capture, org, kind=HELD, data=None):
    with capture(execute=True):
        return webhooks.emit(org, kind, data or {"summary": "A post was held.", "post": {"id": 7}})


def test_the_receiver_gets_exactly_the_signed_body(
    receiver, org, django_capture_on_commit_callbacks, documented_verifier
):
    endpoint, secret = endpoint_for(org, receiver.url + "/hook")
    assert emit_now(django_capture_on_commit_callbacks, org) == 1
    [seen] = receiver.seen("/hook")
    [sent] = Delivery.objects.all()
    assert seen.method == "POST" and seen.headers["content-type"] == "application/json"
    assert documented_verifier(secret, seen.headers, seen.body)
    signing.verify(secret, seen.headers, seen.body)
    body = json.loads(seen.body)
    assert body["type"] == HELD and body["id"] == sent.event_id == seen.headers["webhook-id"]
    assert body["organization"] == {"id": org.pk, "name": "Acme"}
    assert body["data"] == {"summary": "A post was held.", "post": {"id": 7}}
    assert seen.body == delivery.request_body(sent)  # exactly the bytes that were signed
    assert (sent.state, sent.attempts, sent.response_status) == (DeliveryState.SUCCEEDED, 1, 200)
    # Anything else does not verify: another body, another secret, an old timestamp.
    assert not documented_verifier(secret, seen.headers, seen.body.replace(b"7", b"8"))
    assert not documented_verifier(signing.new_secret(), seen.headers, seen.body)
    replayed = {**seen.headers, "webhook-timestamp": str(int(time.time()) - 600)}
    assert not documented_verifier(secret, replayed, seen.body)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(secret, seen.headers, seen.body, now=time.time() + 301)
    assert endpoint.pk == sent.endpoint_id


def test_nothing_is_sent_when_the_transaction_rolls_back(receiver, org, django_capture_on_commit_callbacks):
    endpoint_for(org, receiver.url + "/hook")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        webhooks.emit(org, HELD, {"summary": "x"})
        raise RuntimeError("the action failed")
    assert callbacks == [] and not Delivery.objects.exists()
    assert receiver.requests == []


def test_delivery_waits_for_the_commit(receiver, org, django_capture_on_commit_callbacks):
    endpoint_for(org, receiver.url + "/hook")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        webhooks.emit(org, HELD, {"summary": "x"})
    assert receiver.requests == [] and Delivery.objects.get().state == DeliveryState.PENDING
    for callback in callbacks:
        callback()
    assert len(receiver.seen("/hook")) == 1


def test_only_the_organizations_subscribed_active_endpoints(
    receiver, org, django_capture_on_commit_callbacks
):
    wanted, _secret = endpoint_for(org, receiver.url + "/hook", name="wants it")
    endpoint_for(org, receiver.url + "/other", kinds=["member.offboarded"], name="other events")
    off, _secret = endpoint_for(org, receiver.url + "/off", name="switched off")
    actions.update_endpoint(SYSTEM, off, is_active=False)
    rival = make_org("Rival")
    endpoint_for(rival, receiver.url + "/rival", name="another organization")
    assert emit_now(django_capture_on_commit_callbacks, org) == 1
    assert [d.endpoint_id for d in Delivery.objects.all()] == [wanted.pk]
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_retries_on_500_with_backoff_then_delivers(receiver, org, django_capture_on_commit_callbacks):
    answers = [500, 503, 200]

    def flaky(seen: Seen) -> tuple[int, bytes, dict[str, str]]:
        return answers.pop(0), b"try later", {}

    receiver.route("/hook", answer=flaky)
    _endpoint, secret = endpoint_for(org, receiver.url + "/hook")
    emit_now(django_capture_on_commit_callbacks, org)
    sent = Delivery.objects.get()
    assert (sent.state, sent.attempts, sent.response_status) == (DeliveryState.PENDING, 1, 500)
    assert waited(sent) == timedelta(seconds=delivery.RETRY_DELAYS[0])
    assert sent.next_attempt_at is not None
    assert delivery.deliver(sent.pk, now=sent.next_attempt_at - timedelta(seconds=1)) == DeliveryState.PENDING
    assert len(receiver.requests) == 1  # not due yet: not sent
    assert delivery.deliver(sent.pk, now=sent.next_attempt_at) == DeliveryState.PENDING
    sent.refresh_from_db()
    assert (sent.attempts, sent.response_status) == (2, 503)
    assert waited(sent) == timedelta(seconds=delivery.RETRY_DELAYS[1])
    assert delivery.deliver(sent.pk, now=sent.next_attempt_at) == DeliveryState.SUCCEEDED
    sent.refresh_from_db()
    assert (sent.state, sent.attempts, sent.response_status) == (DeliveryState.SUCCEEDED, 3, 200)
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {sent.event_id}  # one message, tried three times
    for request in receiver.requests:
        signing.verify(secret, request.headers, request.body)


def test_gives_up_after_max_attempts(receiver, org, django_capture_on_commit_callbacks):
    receiver.route("/hook", b"down", status=500)
    endpoint, _secret = endpoint_for(org, receiver.url + "/hook")
    emit_now(django_capture_on_commit_callbacks, org)
    sent = Delivery.objects.get()
    while sent.state == DeliveryState.PENDING:
        delivery.deliver(sent.pk, now=sent.next_attempt_at)
        sent.refresh_from_db()
    assert (sent.state, sent.attempts) == (DeliveryState.FAILED, delivery.MAX_ATTEMPTS)
    assert len(receiver.seen("/hook")) == delivery.MAX_ATTEMPTS == 8
    assert sent.next_attempt_at is None and "500" in sent.error
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1
    assert delivery.deliver(sent.pk, now=timezone.now() + timedelta(days=1)) == DeliveryState.FAILED
    assert len(receiver.seen("/hook")) == 8


@pytest.mark.parametrize("status", [400, 404, 410, 302])
def test_a_client_error_or_redirect_is_final(receiver, org, django_capture_on_commit_callbacks, status):
    receiver.route("/hook", b"no", status=status, headers={"Location": "/elsewhere"})
    endpoint_for(org, receiver.url + "/hook")
    emit_now(django_capture_on_commit_callbacks, org)
    sent = Delivery.objects.get()
    assert (sent.state, sent.attempts, sent.response_status) == (DeliveryState.FAILED, 1, status)
    assert receiver.seen("/elsewhere") == []  # redirects are not followed


def test_429_waits_as_long_as_asked(receiver, org, django_capture_on_commit_callbacks):
    receiver.route("/hook", b"slow down", status=429, headers={"Retry-After": "900"})
    endpoint_for(org, receiver.url + "/hook")
    emit_now(django_capture_on_commit_callbacks, org)
    sent = Delivery.objects.get()
    assert sent.state == DeliveryState.PENDING
    assert waited(sent) == timedelta(seconds=900)


def test_an_address_the_policy_refuses_is_never_contacted(
    receiver, org, settings, django_capture_on_commit_callbacks
):
    endpoint_for(org, receiver.url + "/hook")
    settings.TERTULIA_OUTBOUND_ALLOW = ""  # the operator closed it again
    emit_now(django_capture_on_commit_callbacks, org)
    sent = Delivery.objects.get()
    assert (sent.state, sent.attempts) == (DeliveryState.FAILED, 1)
    assert "private or reserved" in sent.error
    assert receiver.requests == []


def test_a_dead_receiver_is_retried(org, settings, django_capture_on_commit_callbacks):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{port}"
    endpoint_for(org, f"http://127.0.0.1:{port}/hook")
    emit_now(django_capture_on_commit_callbacks, org)
    sent = Delivery.objects.get()
    assert (sent.state, sent.attempts, sent.response_status) == (DeliveryState.PENDING, 1, None)
    assert "Could not reach" in sent.error


def test_the_sweep_takes_back_half_sent_deliveries(receiver, org, django_capture_on_commit_callbacks):
    endpoint_for(org, receiver.url + "/hook")
    with django_capture_on_commit_callbacks(execute=False):
        webhooks.emit(org, HELD, {"summary": "x"})
    sent = Delivery.objects.get()
    now = timezone.now()
    Delivery.objects.filter(pk=sent.pk).update(
        state=DeliveryState.SENDING, lease_until=now - timedelta(seconds=1)
    )
    assert delivery.due(now) == [sent.pk]
    assert delivery.deliver(sent.pk, now=now) == DeliveryState.SUCCEEDED
    assert delivery.due(now) == []


def test_finished_deliveries_are_pruned_after_a_month(receiver, org, django_capture_on_commit_callbacks):
    endpoint_for(org, receiver.url + "/hook")
    emit_now(django_capture_on_commit_callbacks, org)
    with django_capture_on_commit_callbacks(execute=False):
        webhooks.emit(org, HELD, {"summary": "still waiting"})
    month_later = timezone.now() + timedelta(days=delivery.KEEP_DAYS + 1)
    assert delivery.prune(month_later) == 1
    assert [d.state for d in Delivery.objects.all()] == [DeliveryState.PENDING]


@pytest.mark.parametrize("kind", [Format.SLACK, Format.MATTERMOST])
def test_chat_formats_escape_what_the_emitter_wrote(receiver, org, django_capture_on_commit_callbacks, kind):
    _endpoint, secret = endpoint_for(org, receiver.url + "/hook", format=kind)
    hostile = "<!channel> @channel & <https://evil.example|click> *bold* [x](javascript:alert(1)) \u202eevil"
    data = {"summary": hostile, "url": "https://tertulia.example/publish/posts/7/"}
    emit_now(django_capture_on_commit_callbacks, org, data=data)
    [seen] = receiver.seen("/hook")
    body = json.loads(seen.body)
    assert list(body) == ["text"]
    text = body["text"]
    signing.verify(secret, seen.headers, seen.body)
    assert "Post held by the hijack guard" in text and "Acme" in text
    assert "<https://tertulia.example/publish/posts/7/>" in text
    if kind == Format.SLACK:
        assert "&lt;!channel&gt;" in text and "&amp;" in text and "<!channel>" not in text
        assert "<https://evil.example|click>" not in text
    else:
        assert "@channel" not in text and "\uff20channel" in text
        assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in text.replace("\\:", ":")


def test_chat_messages_in_the_endpoints_language(
    receiver, org, django_capture_on_commit_callbacks, monkeypatch
):
    # A label whose Spanish is in the catalog already (LANGUAGES' "Spanish").
    monkeypatch.setitem(
        events.REGISTRY, "test.language", events.EventType("test.language", _lazy("Spanish"), "")
    )
    endpoint, _secret = endpoint_for(
        org, receiver.url + "/hook", format=Format.SLACK, kinds=["test.language"]
    )
    actions.update_endpoint(SYSTEM, endpoint, language="es")
    emit_now(django_capture_on_commit_callbacks, org, kind="test.language")
    text = json.loads(receiver.seen("/hook")[0].body)["text"]
    assert "Español" in text and "Spanish" not in text


def test_test_events_reach_one_endpoint_whatever_it_subscribes_to(
    receiver, org, django_capture_on_commit_callbacks
):
    endpoint, secret = endpoint_for(org, receiver.url + "/hook", kinds=["member.offboarded"])
    endpoint_for(org, receiver.url + "/other", name="other")
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_test(SYSTEM, endpoint)
    [seen] = receiver.requests
    assert seen.path == "/hook" and json.loads(seen.body)["type"] == events.TEST_EVENT
    signing.verify(secret, seen.headers, seen.body)
    assert AuditEntry.objects.filter(action="webhook.test", object_id=str(endpoint.pk)).exists()


def test_the_security_events_are_registered():
    names = {event.name for event in events.subscribable()}
    assert {
        "security.second_factor_removed",
        "security.account_compromised",
        "security.post_held",
        "member.offboarded",
        "audit.chain_broken",
    } <= names
    assert events.TEST_EVENT not in names


def test_emit_refuses_what_it_cannot_send(org):
    with pytest.raises(ValueError, match="no webhook event type"):
        webhooks.emit(org, "security.made_up", {})
    with pytest.raises(ValueError, match="not JSON"):
        webhooks.emit(org, HELD, {"when": object()})
    with pytest.raises(ValueError, match="larger"):
        webhooks.emit(org, HELD, {"summary": "x" * (delivery.MAX_PAYLOAD_BYTES + 1)})


def test_url_and_secret_are_sealed_and_survive_key_rotation(receiver, org):
    url = receiver.url + "/hook/T000/B000/very-secret-path"
    endpoint, secret = endpoint_for(org, url)
    stored = bytes(endpoint.ciphertext)
    assert secret.encode() not in stored and b"very-secret-path" not in stored
    assert "very-secret-path" not in endpoint.url_hint and endpoint.secret_hint == secret[:10] + "…"
    add_key()
    assert vault_actions.rotate() >= 1
    endpoint.refresh_from_db()
    opened = open_endpoint(endpoint)
    assert (opened.url, opened.secret) == (url, secret)


def test_rotating_the_secret_signs_with_the_new_one_only(receiver, org, django_capture_on_commit_callbacks):
    endpoint, old = endpoint_for(org, receiver.url + "/hook")
    new = actions.rotate_secret(SYSTEM, endpoint)
    assert new != old and new.startswith("whsec_")
    emit_now(django_capture_on_commit_callbacks, org)
    [seen] = receiver.seen("/hook")
    signing.verify(new, seen.headers, seen.body)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(old, seen.headers, seen.body)


def test_every_change_is_audited_without_url_or_secret(receiver, org):
    url = receiver.url + "/hook/secret-token-in-path"
    endpoint, secret = endpoint_for(org, url)
    actions.update_endpoint(SYSTEM, endpoint, name="Renamed", url=receiver.url + "/hook/another-secret-path")
    new_secret = actions.rotate_secret(SYSTEM, endpoint)
    actions.delete_endpoint(SYSTEM, endpoint)
    entries = AuditEntry.objects.filter(action__startswith="webhook.").order_by("id")
    assert [e.action for e in entries] == [
        "webhook.create",
        "webhook.update",
        "webhook.rotate_secret",
        "webhook.delete",
    ]
    dump = json.dumps([e.changes for e in entries])
    for leaked in (secret, new_secret, "secret-token-in-path", "another-secret-path"):
        assert leaked not in dump
    assert "Renamed" in dump and not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # plain http to a public host
        "https://127.0.0.1/hook",
        "https://169.254.169.254/",
        "https://user:pw@example.com/",
        "ftp://example.com/",
        "https://example.com:22/",
        "",
    ],
)
def test_endpoint_addresses_that_are_refused(org, url):
    with pytest.raises(actions.WebhookRefused):
        endpoint_for(org, url)
    assert not Endpoint.objects.exists()


def test_unknown_events_and_formats_are_refused(org):
    for kinds in ([], ["nope.nothing"], [events.TEST_EVENT]):
        with pytest.raises(actions.WebhookRefused):
            endpoint_for(org, "https://example.com/hook", kinds=kinds)
    with pytest.raises(actions.WebhookRefused):
        endpoint_for(org, "https://example.com/hook", format="xml")
