"""The delivery engine against the sandbox network: every path a target can take."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.connectors.base import Capability, RateLimited, TemporaryFailure
from tertulia.connectors.registry import open_connector
from tertulia.connectors.sandbox.connector import SandboxConnector
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxPost
from tertulia.core.models import Channel, ChannelStatus
from tertulia.inbox.models import Notification, NotificationKind
from tertulia.publishing.delivery import ledger, sending, states
from tertulia.publishing.delivery.claims import Claim, claim, promote_due
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.delivery.outcomes import summarize
from tertulia.publishing.delivery.sending import deliver_batch
from tertulia.publishing.links import post_path
from tertulia.publishing.models import (
    AttemptOutcome,
    DeliveryAttempt,
    DeliveryTarget,
    ErrorKind,
    Pause,
    Post,
    PostState,
    TargetState,
)

from .conftest import ScheduledMaker


def _posts_of(channel: Channel) -> list[SandboxPost]:
    return list(SandboxPost.objects.filter(author__handle=channel.handle.lstrip("@")))


def deliver(item: Claim, worker: str) -> AttemptOutcome | None:
    """One claim through the batch path; LEASE_LOST when the claim is no longer this worker's."""
    results = deliver_batch([item], worker)
    return results[0].outcome if results else AttemptOutcome.LEASE_LOST


def _mark_intent(target: DeliveryTarget, item: Claim) -> bool:
    return bool(sending._mark_intent([target], {target.pk: item}, timezone.now()))


def _reload(target: DeliveryTarget) -> DeliveryTarget:
    return DeliveryTarget.objects.get(pk=target.pk)


def test_due_targets_are_published_once_with_their_url_and_remote_id(channels, scheduled: ScheduledMaker):
    targets = scheduled(channels, "Lanzamiento")
    assert run_once("w1") == 3
    for target, channel in zip(targets, channels, strict=True):
        target = _reload(target)
        assert target.state == TargetState.SENT
        (post,) = _posts_of(channel)
        assert target.remote_id == str(post.pk) and target.url.startswith("http")
        assert post.text == f"Lanzamiento ({channel.handle})"
        assert [a.outcome for a in target.history.all()] == [AttemptOutcome.SENT]
    assert Post.objects.get(pk=targets[0].post_id).state == PostState.PUBLISHED
    assert run_once("w1") == 0  # nothing left: sent targets are never taken again


def test_a_future_target_waits_for_its_time(channels, scheduled: ScheduledMaker):
    (target,) = scheduled(channels[:1], due=timezone.now() + timedelta(minutes=5))
    assert run_once("w1") == 0
    assert _reload(target).state == TargetState.SCHEDULED
    assert promote_due(timezone.now() + timedelta(minutes=5)) == 1
    assert _reload(target).state == TargetState.DUE


def test_two_claims_never_share_a_target(channels, scheduled: ScheduledMaker):
    scheduled(channels)
    scheduled(channels)
    promote_due()
    first, second = claim("a", limit=4), claim("b", limit=4)
    assert len(first) == 4 and len(second) == 2
    assert not {c.target_id for c in first} & {c.target_id for c in second}


def test_a_worker_that_died_after_publishing_is_reconciled_not_repeated(channels, scheduled: ScheduledMaker):
    (target,) = scheduled(channels[:1])
    promote_due()
    (mine,) = claim("dying", limit=1)
    # The dying worker marks its intent and publishes, then is killed before recording anything.
    assert _mark_intent(_reload(target), mine)
    with open_connector(channels[0]) as connector:
        connector.publish(sending.outgoing(_reload(target)))
    DeliveryTarget.objects.filter(pk=target.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    (taken_over,) = claim("survivor", limit=1)
    assert taken_over.reconcile and taken_over.lease_token == mine.lease_token + 1
    assert deliver(taken_over, "survivor") == AttemptOutcome.RECONCILED
    assert len(_posts_of(channels[0])) == 1
    target = _reload(target)
    assert target.state == TargetState.SENT and target.remote_id == str(_posts_of(channels[0])[0].pk)
    # The dead worker's lease is fenced: were it to wake up, it could not record anything.
    assert deliver(mine, "dying") == AttemptOutcome.LEASE_LOST


def test_a_worker_that_died_before_calling_the_network_leaves_nothing_to_reconcile(channels, scheduled):
    (target,) = scheduled(channels[:1])
    promote_due()
    claim("dying", limit=1)
    DeliveryTarget.objects.filter(pk=target.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    (taken_over,) = claim("survivor", limit=1)
    assert not taken_over.reconcile
    assert deliver(taken_over, "survivor") == AttemptOutcome.SENT
    assert len(_posts_of(channels[0])) == 1


def test_a_pause_holds_delivery_up_to_the_instant_of_sending(channels, scheduled, brand, author):
    (target,) = scheduled(channels[:1])
    promote_due()
    (mine,) = claim("w", limit=1)
    # Crisis mode starts after the claim, just before the send.
    pause = Pause.objects.create(
        organization=brand.organization, brand=brand, is_crisis=True, started_by=author
    )
    assert deliver(mine, "w") == AttemptOutcome.PAUSED
    assert _reload(target).state == TargetState.DUE and _posts_of(channels[0]) == []
    assert run_once("w") == 0  # the claim skips paused brands
    pause.ended_at = timezone.now()
    pause.save()
    assert run_once("w") == 1 and _reload(target).state == TargetState.SENT


def test_an_organization_wide_pause_holds_every_brand(channels, scheduled, brand, author):
    scheduled(channels[:1])
    Pause.objects.create(organization=brand.organization, brand=None, started_by=author)
    assert run_once("w") == 0


def test_a_channel_that_lost_its_access_needs_attention_and_the_owner_is_told(channels, scheduled, author):
    (target,) = scheduled(channels[:1])
    Channel.objects.filter(pk=channels[0].pk).update(status=ChannelStatus.NEEDS_RECONNECT)
    run_once("w")
    target = _reload(target)
    assert target.state == TargetState.NEEDS_ATTENTION and target.error_kind == ErrorKind.CHANNEL
    assert "reconnect" in target.last_error
    note = Notification.objects.get(user=author)
    assert note.kind == NotificationKind.PUBLISH_FAILED and note.url == post_path(target.post_id)
    assert Post.objects.get(pk=target.post_id).state == PostState.FAILED


def test_a_refused_text_fails_and_a_post_with_one_failure_shows_as_partial(channels, scheduled):
    targets = scheduled(channels[:2], texts=["Bien", "x" * 501])
    run_once("w")
    ok, refused = (_reload(t) for t in targets)
    assert ok.state == TargetState.SENT
    assert refused.state == TargetState.FAILED and refused.error_kind == ErrorKind.CONTENT
    assert "500" in refused.last_error
    assert Post.objects.get(pk=ok.post_id).state == PostState.PARTIAL


def test_a_rate_limit_defers_without_counting_as_an_attempt(channels, scheduled):
    SandboxAccount.objects.filter(handle=channels[0].handle.lstrip("@")).update(write_limit=1)
    first, second = scheduled([channels[0], channels[0]][:1]) + scheduled(channels[:1])
    run_once("w")
    states_now = {_reload(first).state, _reload(second).state}
    assert states_now == {TargetState.SENT, TargetState.DUE}
    waiting = next(t for t in (_reload(first), _reload(second)) if t.state == TargetState.DUE)
    assert waiting.error_kind == ErrorKind.RATE_LIMIT and waiting.attempts == 0
    assert waiting.next_attempt_at > timezone.now()
    assert [a.outcome for a in waiting.history.all()] == [AttemptOutcome.RATE_LIMITED]
    assert len(_posts_of(channels[0])) == 1  # the network's limit was never exceeded


def test_passing_failures_back_off_then_ask_a_person(channels, scheduled, monkeypatch):
    (target,) = scheduled(channels[:1])

    def flaky(self, post):
        raise TemporaryFailure("the network timed out")

    monkeypatch.setattr(SandboxConnector, "publish", flaky)
    for attempt in range(1, sending.MAX_ATTEMPTS + 1):
        DeliveryTarget.objects.filter(pk=target.pk).update(next_attempt_at=timezone.now())
        run_once("w")
        current = _reload(target)
        assert current.attempts == attempt
        if attempt < sending.MAX_ATTEMPTS:
            assert current.state == TargetState.DUE and current.maybe_sent
            low = sending.BACKOFF_SECONDS[min(attempt, len(sending.BACKOFF_SECONDS)) - 1] * 0.8
            assert current.next_attempt_at >= timezone.now() + timedelta(seconds=low - 2)
    # A timeout may have published it: a person looks rather than a blind retry.
    assert current.state == TargetState.NEEDS_ATTENTION and current.error_kind == ErrorKind.UNCERTAIN


def test_a_network_that_cannot_be_searched_gets_a_person_not_a_blind_retry(channels, scheduled, monkeypatch):
    (target,) = scheduled(channels[:1])
    monkeypatch.setattr(
        SandboxConnector,
        "capabilities",
        SandboxConnector.capabilities - {Capability.FIND_OWN_POST, Capability.IDEMPOTENT_PUBLISH},
    )
    DeliveryTarget.objects.filter(pk=target.pk).update(maybe_sent=True, state=TargetState.DUE)
    run_once("w")
    target = _reload(target)
    assert target.state == TargetState.NEEDS_ATTENTION and target.error_kind == ErrorKind.UNCERTAIN
    assert _posts_of(channels[0]) == []
    assert ledger.mark_published(target, "https://sandbox.example/p/1")
    assert _reload(target).state == TargetState.SENT
    assert Post.objects.get(pk=target.post_id).state == PostState.PUBLISHED


def test_a_person_retries_after_reconnecting(channels, scheduled):
    (target,) = scheduled(channels[:1])
    Channel.objects.filter(pk=channels[0].pk).update(status=ChannelStatus.NEEDS_RECONNECT)
    run_once("w")
    Channel.objects.filter(pk=channels[0].pk).update(status=ChannelStatus.ACTIVE)
    assert ledger.retry(_reload(target))
    run_once("w")
    assert _reload(target).state == TargetState.SENT
    assert [a.outcome for a in DeliveryAttempt.objects.filter(target=target)] == [
        AttemptOutcome.NEEDS_ATTENTION,
        AttemptOutcome.SENT,
    ]


def test_cancel_stops_what_has_not_gone_out(channels, scheduled):
    targets = scheduled(channels[:2], due=timezone.now() + timedelta(hours=1))
    post = Post.objects.get(pk=targets[0].post_id)
    assert ledger.cancel(post) == 2
    assert Post.objects.get(pk=post.pk).state == PostState.CANCELLED
    promote_due(timezone.now() + timedelta(hours=2))
    assert run_once("w") == 0


def test_scheduling_twice_keeps_one_target_per_channel(channels, scheduled):
    targets = scheduled(channels[:1], due=timezone.now() + timedelta(hours=1))
    post = Post.objects.get(pk=targets[0].post_id)
    later = timezone.now() + timedelta(hours=2)
    again = ledger.enqueue(post, later, {targets[0].variant_id: {"text": "Cambiado", "media": []}})
    assert [t.pk for t in again] == [targets[0].pk]
    assert again[0].due_at == later and again[0].payload["text"] == "Cambiado"


def test_illegal_moves_are_refused():
    with pytest.raises(states.IllegalTransition):
        states.move(1, TargetState.SENT, TargetState.DUE)
    with pytest.raises(states.IllegalTransition):
        states.move(1, TargetState.SCHEDULED, TargetState.SENT)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"sent": 3}, PostState.PUBLISHED),
        ({"sent": 2, "failed": 1}, PostState.PARTIAL),
        ({"sent": 1, "needs_attention": 1}, PostState.PARTIAL),
        ({"failed": 2}, PostState.FAILED),
        ({"sent": 1, "due": 1}, PostState.SCHEDULED),
        ({"sent": 1, "cancelled": 1}, PostState.PUBLISHED),
        ({"cancelled": 2}, PostState.CANCELLED),
        ({"failed": 1, "claimed": 1}, PostState.SCHEDULED),
    ],
)
def test_a_post_state_summarizes_its_targets(counts, expected):
    assert summarize(Counter(counts)) == expected


def test_on_a_network_without_idempotency_keys_our_post_is_found_by_content(channels, scheduled):
    """The sandbox account behaves like X or Facebook: only reconciliation prevents a double post."""
    SandboxAccount.objects.filter(handle=channels[0].handle.lstrip("@")).update(keeps_idempotency_keys=False)
    (target,) = scheduled(channels[:1])
    promote_due()
    (mine,) = claim("dying", limit=1)
    assert _mark_intent(_reload(target), mine)
    with open_connector(channels[0]) as connector:
        connector.publish(sending.outgoing(_reload(target)))
        # Without reconciliation the network would take the same post twice.
        assert connector.find_own_post(target.idempotency_key) is None
    DeliveryTarget.objects.filter(pk=target.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    (taken_over,) = claim("survivor", limit=1)
    assert deliver(taken_over, "survivor") == AttemptOutcome.RECONCILED
    assert len(_posts_of(channels[0])) == 1


@pytest.mark.parametrize("hint", [1e300, float("inf"), float("nan")])
def test_a_garbled_retry_after_waits_a_day_at_most(channels, scheduled, monkeypatch, hint):
    (target,) = scheduled(channels[:1])

    def limited(self, post):
        raise RateLimited("slow down", retry_after=hint)

    monkeypatch.setattr(SandboxConnector, "publish", limited)
    run_once("w")
    target = _reload(target)
    assert target.state == TargetState.DUE
    assert target.next_attempt_at <= timezone.now() + timedelta(seconds=sending.MAX_RATE_WAIT_SECONDS)


def _network_without_lookup(monkeypatch, key_seconds: float | None) -> None:
    """The sandbox as Mastodon is: it dedupes on our key (for a while) but cannot be searched."""
    monkeypatch.setattr(
        SandboxConnector, "capabilities", SandboxConnector.capabilities - {Capability.FIND_OWN_POST}
    )
    monkeypatch.setattr(SandboxConnector, "idempotency_key_seconds", key_seconds)


def test_a_key_the_network_still_remembers_is_resent(channels, scheduled, monkeypatch):
    _network_without_lookup(monkeypatch, 3600)
    (target,) = scheduled(channels[:1])
    DeliveryTarget.objects.filter(pk=target.pk).update(
        maybe_sent=True, state=TargetState.DUE, first_attempt_at=timezone.now() - timedelta(minutes=10)
    )
    run_once("w")
    assert _reload(target).state == TargetState.SENT and len(_posts_of(channels[0])) == 1


def test_a_key_the_network_has_forgotten_is_not_resent(channels, scheduled, monkeypatch):
    _network_without_lookup(monkeypatch, 3600)
    (target,) = scheduled(channels[:1])
    DeliveryTarget.objects.filter(pk=target.pk).update(
        maybe_sent=True, state=TargetState.DUE, first_attempt_at=timezone.now() - timedelta(hours=2)
    )
    run_once("w")
    target = _reload(target)
    assert target.state == TargetState.NEEDS_ATTENTION and target.error_kind == ErrorKind.UNCERTAIN
    assert _posts_of(channels[0]) == []


def test_a_refusal_after_a_lookup_clears_the_possibly_sent_mark(channels, scheduled):
    (target,) = scheduled(channels[:1], texts=["x" * 501])
    DeliveryTarget.objects.filter(pk=target.pk).update(maybe_sent=True, state=TargetState.DUE)
    run_once("w")
    target = _reload(target)
    assert target.state == TargetState.FAILED and not target.maybe_sent


def test_a_payload_that_cannot_be_read_is_retried_as_never_sent(channels, scheduled):
    (target,) = scheduled(channels[:1])
    DeliveryTarget.objects.filter(pk=target.pk).update(
        payload={"text": "hola", "media": [{"rendition": 999999}]}
    )
    run_once("w")
    target = _reload(target)
    assert target.state == TargetState.DUE and target.error_kind == ErrorKind.TEMPORARY
    assert not target.maybe_sent and _posts_of(channels[0]) == []
