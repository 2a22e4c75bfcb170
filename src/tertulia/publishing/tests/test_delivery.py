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


# --- people acting on held targets, graceful stops, uncertainty ---------------------------------


def _held(target: DeliveryTarget) -> Claim:
    promote_due()
    (item,) = claim("holder", limit=1)
    assert item.target_id == target.pk
    return item


def test_a_post_cancelled_while_a_worker_holds_it_is_dropped_before_the_network(channels, scheduled):
    (target,) = scheduled(channels[:1])
    item = _held(target)
    assert ledger.cancel(Post.objects.get(pk=target.post_id)) == 1
    assert deliver(item, "holder") == AttemptOutcome.CANCELLED
    assert _reload(target).state == TargetState.CANCELLED and _posts_of(channels[0]) == []
    assert Post.objects.get(pk=target.post_id).state == PostState.CANCELLED


def test_a_cancel_that_lands_mid_batch_is_honoured_when_the_target_is_given_back(
    channels, scheduled, monkeypatch
):
    (target,) = scheduled(channels[:1])
    item = _held(target)

    def paused_and_cancelled(organization_id: int, brand_id: int) -> bool:
        # After the fresh read of people's requests, before the batch records: a pause holds the
        # target, and meanwhile someone cancels the post.
        ledger.cancel(Post.objects.get(pk=target.post_id))
        return True

    monkeypatch.setattr(sending, "is_paused", paused_and_cancelled)
    results = deliver_batch([item], "holder")
    assert results[0].outcome == AttemptOutcome.PAUSED
    target = _reload(target)
    assert target.state == TargetState.CANCELLED and not target.cancel_requested
    assert [a.outcome for a in DeliveryAttempt.objects.filter(target=target)] == [AttemptOutcome.CANCELLED]
    assert _posts_of(channels[0]) == []
    assert Post.objects.get(pk=target.post_id).state == PostState.CANCELLED


def test_a_post_moved_later_while_held_goes_back_to_the_calendar(channels, scheduled):
    (target,) = scheduled(channels[:1])
    item = _held(target)
    later = timezone.now() + timedelta(hours=5)
    assert ledger.reschedule(Post.objects.get(pk=target.post_id), later) == 1
    assert deliver(item, "holder") == AttemptOutcome.MOVED
    target = _reload(target)
    assert target.state == TargetState.SCHEDULED and target.due_at == later and target.attempts == 0
    assert target.requested_due_at is None and _posts_of(channels[0]) == []


def test_rescheduling_a_failed_target_gives_it_all_its_attempts_again(channels, scheduled):
    (target,) = scheduled(channels[:1])
    DeliveryTarget.objects.filter(pk=target.pk).update(state=TargetState.FAILED, attempts=6)
    post = Post.objects.get(pk=target.post_id)
    ledger.enqueue(post, timezone.now() + timedelta(hours=1), {target.variant_id: target.payload})
    target = _reload(target)
    assert target.state == TargetState.SCHEDULED and target.attempts == 0


def _unsearchable(monkeypatch) -> None:
    monkeypatch.setattr(
        SandboxConnector,
        "capabilities",
        SandboxConnector.capabilities - {Capability.FIND_OWN_POST, Capability.IDEMPOTENT_PUBLISH},
    )


def test_a_persons_retry_on_a_network_that_cannot_be_checked_sends_instead_of_asking_again(
    channels, scheduled, monkeypatch, author
):
    from tertulia.core.actions.context import Actor
    from tertulia.publishing.actions.delivery import retry_is_blind, retry_target

    _unsearchable(monkeypatch)
    (target,) = scheduled(channels[:1])
    DeliveryTarget.objects.filter(pk=target.pk).update(maybe_sent=True, state=TargetState.DUE)
    run_once("w")
    target = _reload(target)
    assert target.state == TargetState.NEEDS_ATTENTION and retry_is_blind(target)
    assert Post.objects.get(pk=target.post_id).state == PostState.NEEDS_ATTENTION  # not "failed"
    retry_target(Actor(user=author, via="web"), target)
    run_once("w")
    assert _reload(target).state == TargetState.SENT and len(_posts_of(channels[0])) == 1


def test_on_a_network_that_cannot_be_checked_each_intent_is_written_right_before_its_call(
    channels, scheduled, monkeypatch
):
    _unsearchable(monkeypatch)
    targets = scheduled(channels[:1] * 1 + channels[1:2], "Uno")
    seen: list[int] = []
    publish = SandboxConnector.publish

    def watching(self, post):
        # A worker killed at this instant leaves only the target on the wire marked as possibly out.
        seen.append(DeliveryTarget.objects.filter(maybe_sent=True).count())
        return publish(self, post)

    monkeypatch.setattr(SandboxConnector, "publish", watching)
    assert run_once("w") == 2
    assert seen == [1, 2]
    assert {_reload(t).state for t in targets} == {TargetState.SENT}
    assert {_reload(t).attempts for t in targets} == {1}


def test_a_graceful_stop_gives_back_what_it_has_not_tried_untouched(channels, scheduled):
    targets = scheduled(channels, "Parada")
    promote_due()
    claims = claim("stopping", limit=3)
    calls = iter([False, True, True])
    results = deliver_batch(claims, "stopping", stopping=lambda: next(calls))
    assert [r.to for r in results].count(TargetState.SENT) == 1
    for target in map(_reload, targets):
        if target.state != TargetState.SENT:
            assert target.state == TargetState.DUE and not target.maybe_sent and target.attempts == 0


def test_a_lookup_never_adopts_the_post_another_delivery_owns(channels, scheduled):
    SandboxAccount.objects.filter(handle=channels[0].handle.lstrip("@")).update(keeps_idempotency_keys=False)
    first, second = (
        scheduled(channels[:1], texts=["Mismo texto"])[0],
        scheduled(channels[:1], texts=["Mismo texto"])[0],
    )
    DeliveryTarget.objects.filter(pk=second.pk).update(due_at=timezone.now() + timedelta(hours=1))
    run_once("w")
    assert _reload(first).state == TargetState.SENT
    # The second, same text on the same channel, comes back from a killed worker: the only post the
    # lookup can find is the first's.
    DeliveryTarget.objects.filter(pk=second.pk).update(
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        maybe_sent=True,
        first_attempt_at=timezone.now(),
        state=TargetState.DUE,
    )
    run_once("w")
    second = _reload(second)
    assert second.state == TargetState.NEEDS_ATTENTION and "same text" in second.last_error
    assert second.remote_id == "" and len(_posts_of(channels[0])) == 1


def test_a_send_of_several_calls_gets_a_lease_long_enough(channels, scheduled, monkeypatch):
    monkeypatch.setattr(SandboxConnector, "call_seconds", 40.0)
    (target,) = scheduled(channels[:1])
    DeliveryTarget.objects.filter(pk=target.pk).update(
        payload={"text": "Con fotos", "media": [{"rendition": 1}, {"rendition": 2}]}
    )
    item = _held(target)
    target = _reload(target)
    marked: set[int] = set()
    before = target.lease_until
    assert sending._intent_recorded(target, item, marked, lease_end=0.0)
    after = _reload(target).lease_until
    assert before is not None and after is not None
    assert marked == {target.pk} and after - timezone.now() > timedelta(seconds=3 * 40)
    assert after > before


def test_a_graceful_stop_waits_for_every_dispatcher_to_record_its_batch():
    import time as clock

    from tertulia.publishing.delivery.dispatcher import Dispatcher, stop_all

    class Busy(Dispatcher):
        finished = False

        def run(self) -> None:  # a batch that takes a moment to record once asked to stop
            self.stopping.wait()
            clock.sleep(0.2)  # the batch's own work after the stop request: stop_all must wait it out
            self.finished = True

    dispatchers = [Busy(n) for n in range(2)]
    for dispatcher in dispatchers:
        dispatcher.start()
    stop_all(dispatchers, timeout=10)
    assert all(d.finished and not d.is_alive() for d in dispatchers)


def test_a_cancel_meets_a_channel_that_lost_its_access_the_post_is_cancelled_not_failed(channels, scheduled):
    (target,) = scheduled(channels[:1])
    item = _held(target)
    ledger.cancel(Post.objects.get(pk=target.post_id))
    Channel.objects.filter(pk=channels[0].pk).update(status=ChannelStatus.NEEDS_RECONNECT)
    deliver_batch([item], "holder")
    assert _reload(target).state == TargetState.CANCELLED
    assert Post.objects.get(pk=target.post_id).state == PostState.CANCELLED
    assert not Notification.objects.filter(kind=NotificationKind.PUBLISH_FAILED).exists()


def test_a_cancel_never_hides_a_delivery_that_may_be_out(channels, scheduled):
    (target,) = scheduled(channels[:1])
    DeliveryTarget.objects.filter(pk=target.pk).update(maybe_sent=True)  # an earlier worker died mid-call
    item = _held(target)
    assert item.reconcile
    ledger.cancel(Post.objects.get(pk=target.post_id))
    deliver_batch([item], "holder")
    target = _reload(target)
    assert target.state == TargetState.NEEDS_ATTENTION and target.error_kind == ErrorKind.UNCERTAIN
    assert "cancelled while" in target.last_error
    assert Post.objects.get(pk=target.post_id).state == PostState.NEEDS_ATTENTION


def test_a_channel_whose_network_is_gone_needs_attention_not_a_crash(channels, scheduled):
    (target,) = scheduled(channels[:1])
    Channel.objects.filter(pk=channels[0].pk).update(network="myspace")
    assert run_once("w") == 1
    target = _reload(target)
    assert target.state == TargetState.NEEDS_ATTENTION and "myspace" in target.last_error
