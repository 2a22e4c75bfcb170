"""Sending a batch of claimed targets, each exactly once.

The order of steps is the guarantee (docs/publishing.md, decision 0014):

1. the channel must be usable, and publishing not paused (for its brand, its organization or the
   channel alone) — the pause is checked again right before each network call, so a crisis switch
   or a compromised channel stops even a batch already under way;
2. the intent is recorded (`maybe_sent`, fenced by each row's lease token) before any network call,
   so a worker that dies mid-batch leaves a mark that makes the next one reconcile;
3. a target that may already be out is looked for on the network (`find_own_post`) before any new
   send; networks that dedupe on our idempotency key are simply sent the same key again; a network
   that can do neither gets a person to check, never a blind retry;
4. the batch stops sending well before its lease runs out (what is left goes back, unsent), and the
   results are recorded in one transaction, only under the same lease tokens.

Batching the bookkeeping keeps the ledger's cost per post at a fraction of a write; a crash between a
send and the record costs one lookup per sent target, never a second post.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import (
    AuthenticationFailed,
    Capability,
    Connector,
    ConnectorError,
    MediaItem,
    OutgoingPost,
    PublishedPost,
    RateLimited,
    TemporaryFailure,
)
from tertulia.connectors.registry import UnknownNetwork, connector_class, open_connector
from tertulia.core.actions.context import Actor
from tertulia.core.models import ChannelStatus
from tertulia.publishing.delivery import states
from tertulia.publishing.delivery.claims import Claim, lease_seconds
from tertulia.publishing.delivery.outcomes import targets_finished
from tertulia.publishing.delivery.pauses import channel_paused, is_paused
from tertulia.publishing.models import (
    AttemptOutcome,
    DeliveryAttempt,
    DeliveryTarget,
    ErrorKind,
    Rendition,
    TargetState,
)
from tertulia.vault import usage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # network attempts that failed for a passing reason; rate-limit waits do not count
BACKOFF_SECONDS = (10, 30, 90, 270, 810)  # about 20 minutes in all before a person is asked
MAX_RATE_WAIT_SECONDS = 24 * 3600.0  # Instagram's window is a day; no network asks for longer
# Stop starting sends this long before the lease ends: longer than any one network call takes.
SEND_MARGIN_SECONDS = 30.0


@dataclass
class Result:
    """What became of one target in this batch, recorded with the others at the end."""

    claim: Claim
    to: TargetState
    outcome: AttemptOutcome | None  # None: given back untried (no history row)
    started: datetime
    error: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    # When the channel said "not before": the dispatcher holds the channel's other targets until then.
    channel_blocked_until: datetime | None = None


def outgoing(target: DeliveryTarget) -> OutgoingPost:
    """The frozen payload as the connector takes it."""
    payload: dict[str, Any] = target.payload
    media = []
    for item in payload.get("media", []):
        rendition = Rendition.objects.get(pk=item["rendition"])
        with default_storage.open(rendition.file.name, "rb") as handle:
            media.append(
                MediaItem(mime_type=rendition.mime_type, data=handle.read(), alt_text=item.get("alt", ""))
            )
    return OutgoingPost(text=payload.get("text", ""), media=media, idempotency_key=target.idempotency_key)


def _backoff(attempts: int) -> timedelta:
    base = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
    # Jitter spreads the retries of a burst that failed together.
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 (spreading load, not a secret)


def _needs_attention(claim: Claim, started: datetime, message: str, kind: ErrorKind, **fields: Any) -> Result:
    """A person has to look (the message says at what); `maybe_sent` stays unless given."""
    return Result(
        claim,
        TargetState.NEEDS_ATTENTION,
        AttemptOutcome.NEEDS_ATTENTION,
        started,
        message,
        {"error_kind": kind, "last_error": message, **fields},
    )


def _given_back(
    claim: Claim, started: datetime, outcome: AttemptOutcome | None = None, **fields: Any
) -> Result:
    """Back to the queue as it was: nothing was sent (so `maybe_sent` returns to what it was)."""
    return Result(
        claim,
        TargetState.DUE,
        outcome,
        started,
        fields={
            "next_attempt_at": started,
            "lease_owner": "",
            "lease_until": None,
            "maybe_sent": claim.reconcile,
            **fields,
        },
    )


def _mark_intent(targets: Sequence[DeliveryTarget], claims: dict[int, Claim], now: datetime) -> set[int]:
    """Say, before calling the network, that these may be published (each fenced by its lease)."""
    marked: set[int] = set()
    with transaction.atomic():
        for target in targets:
            updated = DeliveryTarget.objects.filter(
                pk=target.pk, state=TargetState.CLAIMED, lease_token=claims[target.pk].lease_token
            ).update(
                maybe_sent=True,
                attempts=F("attempts") + 1,
                first_attempt_at=target.first_attempt_at or now,
                updated_at=now,
            )
            if updated:
                marked.add(target.pk)
    return marked


class _Ambiguous(Exception):
    """The post found on the network is another delivery's (two of the same text on one channel)."""


def can_reconcile(connector: type[Connector] | Connector, target: DeliveryTarget) -> bool:
    """Whether a target that may be out can be settled without a person: by looking for it on the
    network, or by resending a key the network still remembers."""
    if connector.supports(Capability.FIND_OWN_POST):
        return True
    return connector.supports(Capability.IDEMPOTENT_PUBLISH) and not _key_forgotten(connector, target)


def _find_or_publish(
    connector: Connector,
    target: DeliveryTarget,
    post: OutgoingPost,
    reconcile: bool,
    taken: set[tuple[int, str]],
) -> tuple[PublishedPost | None, AttemptOutcome]:
    if reconcile:
        if connector.supports(Capability.FIND_OWN_POST):
            since = (target.first_attempt_at or timezone.now()) - timedelta(minutes=1)
            found = connector.find_own_post(target.idempotency_key, post, since=since)
            if found is not None:
                if (target.channel_id, found.remote_id) in taken or _recorded_elsewhere(
                    target, found.remote_id
                ):
                    # Another delivery of the same text on this channel owns that post: whether ours
                    # is out too, only a person can tell.
                    raise _Ambiguous
                return found, AttemptOutcome.RECONCILED
        elif not can_reconcile(connector, target):
            return None, AttemptOutcome.NEEDS_ATTENTION
    return connector.publish(post), AttemptOutcome.SENT


def _recorded_elsewhere(target: DeliveryTarget, remote_id: str) -> bool:
    return (
        DeliveryTarget.objects.filter(channel_id=target.channel_id, remote_id=remote_id)
        .exclude(pk=target.pk)
        .exists()
    )


def _key_forgotten(connector: type[Connector] | Connector, target: DeliveryTarget) -> bool:
    """The network no longer remembers our key (Mastodon: an hour): resending it may publish twice."""
    lifetime = connector.idempotency_key_seconds
    first = target.first_attempt_at
    return lifetime is not None and first is not None and timezone.now() - first > timedelta(seconds=lifetime)


def _author(target: DeliveryTarget) -> Actor:
    """Whom the credential use is for, in the audit trail: the post's author."""
    from tertulia.publishing.models import Post

    post = Post.objects.select_related("created_by").only("created_by").get(pk=target.post_id)
    return usage.for_person(post.created_by, usage.PUBLISH)


def _send(target: DeliveryTarget, claim: Claim, started: datetime, taken: set[tuple[int, str]]) -> Result:
    """One network call (or lookup) for a target whose intent is recorded.

    `taken`: (channel, remote id) this batch found or published already (a lookup must not match them).
    """
    channel = target.channel
    attempts = target.attempts + 1
    try:
        post = outgoing(target)
    except Exception as error:  # the frozen media cannot be read: nothing reached the network
        logger.exception("delivery %s: its payload cannot be read", target.pk)
        return _retry(claim, started, attempts, repr(error)[:500], uncertain=claim.reconcile)
    try:
        with open_connector(channel, usage.PUBLISH, _author(target), {"post": target.post_id}) as connector:
            published, outcome = _find_or_publish(connector, target, post, claim.reconcile, taken)
    except _Ambiguous:
        message = _(
            "An earlier attempt may have published this, and the post found on @%(handle)s could be "
            "another delivery of the same text. Look at the channel: mark it published if it is there "
            "twice, or retry."
        ) % {"handle": channel.handle}
        return _needs_attention(claim, started, message, ErrorKind.UNCERTAIN)
    except RateLimited as error:
        # A network's hint, bounded: a garbled Retry-After must not park a post for years (or overflow).
        wait = error.retry_after if math.isfinite(error.retry_after) else MAX_RATE_WAIT_SECONDS
        until = timezone.now() + timedelta(seconds=min(max(wait, 1.0), MAX_RATE_WAIT_SECONDS))
        result = _given_back(
            claim,
            started,
            AttemptOutcome.RATE_LIMITED,
            next_attempt_at=until,
            error_kind=ErrorKind.RATE_LIMIT,
            last_error=str(error),
        )
        result.error, result.channel_blocked_until = str(error), until
        return result
    except AuthenticationFailed as error:
        message = _(
            "@%(handle)s lost its access to %(network)s (%(error)s): reconnect the channel, then retry."
        ) % {"handle": channel.handle, "network": channel.network, "error": error}
        return _needs_attention(claim, started, message, ErrorKind.CHANNEL, maybe_sent=claim.reconcile)
    except ConnectorError as error:
        if not error.retryable:
            # Refused: the network did not publish it (whatever an earlier attempt might have done
            # was settled by the lookup before this send).
            return Result(
                claim,
                TargetState.FAILED,
                AttemptOutcome.FAILED,
                started,
                str(error),
                {"error_kind": ErrorKind.CONTENT, "last_error": str(error), "maybe_sent": False},
            )
        return _retry(
            claim,
            started,
            attempts,
            str(error),
            uncertain=isinstance(error, TemporaryFailure) or claim.reconcile,
        )
    except Exception as error:  # a bug or an unexpected library error must not kill the worker
        logger.exception("delivery %s: unexpected error", target.pk)
        return _retry(claim, started, attempts, repr(error)[:500], uncertain=True)

    if published is None:
        message = _(
            "An earlier attempt may have published this, and %(network)s offers no way to check. "
            "Look at the channel: mark it published if it is there, or retry."
        ) % {"network": channel.network}
        return _needs_attention(claim, started, message, ErrorKind.UNCERTAIN)
    url = published.url if published.url.startswith(("https://", "http://")) else ""
    return Result(
        claim,
        TargetState.SENT,
        outcome,
        started,
        fields={
            "remote_id": published.remote_id[:255],
            "url": url[:500],
            "sent_at": published.created_at,
            "lease_owner": "",
            "lease_until": None,
            "error_kind": ErrorKind.NONE,
            "last_error": "",
        },
    )


def _retry(claim: Claim, started: datetime, attempts: int, error: str, *, uncertain: bool) -> Result:
    if attempts >= MAX_ATTEMPTS:
        to = TargetState.NEEDS_ATTENTION if uncertain else TargetState.FAILED
        kind = ErrorKind.UNCERTAIN if uncertain else ErrorKind.TEMPORARY
        return Result(
            claim,
            to,
            AttemptOutcome(to),
            started,
            error,
            {"error_kind": kind, "last_error": error, "maybe_sent": uncertain},
        )
    return Result(
        claim,
        TargetState.DUE,
        AttemptOutcome.RETRY,
        started,
        error,
        {
            "next_attempt_at": timezone.now() + _backoff(attempts),
            "maybe_sent": uncertain,
            "lease_owner": "",
            "lease_until": None,
            "error_kind": ErrorKind.TEMPORARY,
            "last_error": error,
        },
    )


def deliver_batch(
    claims: Sequence[Claim],
    worker: str,
    blocked: dict[int, datetime] | None = None,
    stopping: Callable[[], bool] | None = None,
) -> list[Result]:
    """Send every claimed target of one claim; `blocked` holds channels rate-limited until a moment.

    `stopping` says the worker is shutting down: what has not been tried is given back untouched.
    """
    blocked = {} if blocked is None else blocked
    started = timezone.now()
    lease_end = time.monotonic() + lease_seconds()
    deadline = lease_end - min(SEND_MARGIN_SECONDS, lease_seconds() / 2)
    by_id = {c.target_id: c for c in claims}
    targets = [
        t
        for t in DeliveryTarget.objects.select_related("channel").filter(pk__in=list(by_id))
        if t.state == TargetState.CLAIMED and t.lease_token == by_id[t.pk].lease_token
    ]
    targets.sort(key=lambda t: (t.next_attempt_at, t.pk))
    results: list[Result] = []
    ready: list[DeliveryTarget] = []
    for target in targets:
        claim, channel = by_id[target.pk], target.channel
        if not _known_network(channel.network):
            message = _(
                "Tertulia has no connector for %(network)s any more: this delivery cannot be sent."
            ) % {"network": channel.network}
            results.append(_needs_attention(claim, started, message, ErrorKind.CHANNEL))
        elif channel.status != ChannelStatus.ACTIVE:
            message = _("The channel @%(handle)s is %(status)s: reconnect or resume it, then retry.") % {
                "handle": channel.handle,
                "status": ChannelStatus(channel.status).label.lower(),
            }
            results.append(_needs_attention(claim, started, message, ErrorKind.CHANNEL))
        else:
            ready.append(target)
    # Where an interrupted send is cheap to settle (a lookup, a remembered key), the whole batch's
    # intent is one write; where only a person can settle it, each target's intent is written right
    # before its own call, so a worker killed mid-batch leaves at most one such target uncertain.
    cheap = [t for t in ready if can_reconcile(connector_class(t.channel.network), t)]
    marked = _mark_intent(cheap, by_id, timezone.now()) if cheap else set()
    taken: set[tuple[int, str]] = set()
    for target in ready:
        claim = by_id[target.pk]
        now = timezone.now()
        until = blocked.get(target.channel_id)
        request = _requests(target.pk)
        if request is None:
            continue  # the lease was lost between the claim and now: another worker has it
        if request.cancelled:
            results.append(_dropped(claim, now))
        elif request.due_at is not None and request.due_at > now:
            results.append(_moved(claim, now, request.due_at))
        elif until is not None and until > now:
            results.append(_given_back(claim, now, next_attempt_at=until))
        elif time.monotonic() > deadline or (stopping is not None and stopping()):
            results.append(_given_back(claim, now))  # the next round (or another worker) sends it
        elif is_paused(target.organization_id, target.brand_id) or channel_paused(target.channel_id):
            results.append(_given_back(claim, now, AttemptOutcome.PAUSED))
        elif not _intent_recorded(target, claim, marked, lease_end):
            continue  # lost the lease: another worker has it
        else:
            result = _send(target, claim, now, taken)
            if result.channel_blocked_until is not None:
                blocked[target.channel_id] = result.channel_blocked_until
            if result.to == TargetState.SENT:
                taken.add((target.channel_id, str(result.fields.get("remote_id", ""))))
            results.append(result)
    _record(results, worker, marked)
    return results


@dataclass(frozen=True)
class _Requests:
    cancelled: bool
    due_at: datetime | None


def _requests(target_id: int) -> _Requests | None:
    """What people asked of a held target since it was claimed (read fresh, right before its call)."""
    row = (
        DeliveryTarget.objects.filter(pk=target_id, state=TargetState.CLAIMED)
        .values_list("cancel_requested", "requested_due_at")
        .first()
    )
    return None if row is None else _Requests(row[0], row[1])


def _dropped(claim: Claim, now: datetime) -> Result:
    # Cancelled by a person while held: nothing of this claim reached the network (but an earlier
    # attempt may have: then a person looks, see `_honour_requests`).
    if claim.reconcile:
        return _honour_requests(_given_back(claim, now), cancelled=True, due_at=None)
    return Result(
        claim,
        TargetState.CANCELLED,
        AttemptOutcome.CANCELLED,
        now,
        fields={"lease_owner": "", "lease_until": None, "maybe_sent": claim.reconcile},
    )


def _moved(claim: Claim, now: datetime, due_at: datetime) -> Result:
    return Result(
        claim,
        TargetState.SCHEDULED,
        AttemptOutcome.MOVED,
        now,
        fields={
            "due_at": due_at,
            "next_attempt_at": due_at,
            "requested_due_at": None,
            "lease_owner": "",
            "lease_until": None,
            "maybe_sent": claim.reconcile,
        },
    )


def _known_network(network: str) -> bool:
    try:
        connector_class(network)
    except UnknownNetwork:
        return False
    return True


def _seconds_needed(target: DeliveryTarget, claim: Claim) -> float:
    """The longest this target's send can take: each network call may take the connector's timeout."""
    calls = 1 + len(target.payload.get("media", [])) + (1 if claim.reconcile else 0)
    return calls * connector_class(target.channel.network).call_seconds


def _intent_recorded(target: DeliveryTarget, claim: Claim, marked: set[int], lease_end: float) -> bool:
    # `marked` gains the target if this write raised its attempt count.
    """Record this target's intent if the batch did not, and make sure its lease outlasts its send.

    A send of several calls (images, a lookup first) can take longer than what is left of the
    batch's lease: that target's lease is extended first, fenced by its token like every write.
    """
    needed = _seconds_needed(target, claim)
    extend = time.monotonic() + needed > lease_end - 1.0
    if target.pk in marked and not extend:
        return True
    now = timezone.now()
    fields: dict[str, Any] = {"updated_at": now}
    if extend:
        fields["lease_until"] = now + timedelta(seconds=needed + SEND_MARGIN_SECONDS)
    if target.pk not in marked:
        fields.update(
            maybe_sent=True, attempts=F("attempts") + 1, first_attempt_at=target.first_attempt_at or now
        )
    updated = DeliveryTarget.objects.filter(
        pk=target.pk, state=TargetState.CLAIMED, lease_token=claim.lease_token
    ).update(**fields)
    if updated:
        marked.add(target.pk)
    return bool(updated)


# Outcomes after which the claim's attempt does not count: nothing was tried, or waiting is not failing.
_NOT_AN_ATTEMPT = frozenset(
    {None, AttemptOutcome.RATE_LIMITED, AttemptOutcome.PAUSED, AttemptOutcome.CANCELLED, AttemptOutcome.MOVED}
)


def _record(results: Sequence[Result], worker: str, marked: set[int]) -> None:
    """Write the batch's results, each only under its own lease token, in one transaction.

    `marked`: targets whose attempt count this batch raised. A target a person cancelled or moved
    while it was held, and that is going back to the queue (or failed), is cancelled or moved now.
    """
    if not results:
        return
    finished: list[tuple[int, TargetState, str]] = []
    history = []
    with transaction.atomic():
        # Locked until the results are written, so a cancel or move cannot land in between and be
        # cleared unread (PostgreSQL; SQLite's write lock covers the whole transaction).
        requests = {
            pk: (cancelled, due_at)
            for pk, cancelled, due_at in DeliveryTarget.objects.select_for_update()
            .filter(pk__in=[r.claim.target_id for r in results])
            .values_list("pk", "cancel_requested", "requested_due_at")
        }
        for result in results:
            result = _honour_requests(result, *requests.get(result.claim.target_id, (False, None)))
            fields = dict(result.fields, cancel_requested=False, requested_due_at=None)
            if result.outcome in _NOT_AN_ATTEMPT and result.claim.target_id in marked:
                fields["attempts"] = F("attempts") - 1
            moved = states.move(
                result.claim.target_id,
                TargetState.CLAIMED,
                result.to,
                lease_token=result.claim.lease_token,
                **fields,
            )
            if not moved:
                logger.warning(
                    "delivery %s: lease lost before recording %s", result.claim.target_id, result.outcome
                )
                continue
            if result.outcome is not None:
                history.append(
                    DeliveryAttempt(
                        target_id=result.claim.target_id,
                        worker=worker[:100],
                        started_at=result.started,
                        outcome=result.outcome,
                        error=result.error[:2000],
                    )
                )
            if result.to in FINAL_FOR_NOW:
                finished.append((result.claim.target_id, result.to, result.error))
        DeliveryAttempt.objects.bulk_create(history)
        targets_finished(finished)


FINAL_FOR_NOW = frozenset(
    {TargetState.SENT, TargetState.FAILED, TargetState.NEEDS_ATTENTION, TargetState.CANCELLED}
)


def _honour_requests(result: Result, cancelled: bool, due_at: datetime | None) -> Result:
    """A held target that did not go out follows what a person asked meanwhile.

    Cancelled: cancelled, unless it may be out (an earlier or this attempt may have reached the
    network): then a person looks, as for any uncertain delivery, rather than a "cancelled" that
    could hide a published post.
    """
    maybe_sent = bool(result.fields.get("maybe_sent", False))
    undecided = result.to in (TargetState.DUE, TargetState.FAILED) or (
        result.to == TargetState.NEEDS_ATTENTION and not maybe_sent
    )
    if not undecided:
        return result
    if cancelled:
        if maybe_sent:
            message = _(
                "The post was cancelled while this delivery may already have gone out. Look at the "
                "channel: mark it published if it is there."
            )
            return _needs_attention(
                result.claim, result.started, message, ErrorKind.UNCERTAIN, maybe_sent=True
            )
        dropped: dict[str, Any] = {"lease_owner": "", "lease_until": None, "maybe_sent": False}
        return Result(
            result.claim,
            TargetState.CANCELLED,
            _untried_as(result, AttemptOutcome.CANCELLED),
            result.started,
            result.error,
            dropped,
        )
    if due_at is not None and result.to == TargetState.DUE:
        fields: dict[str, Any] = {
            **result.fields,
            "due_at": due_at,
            "next_attempt_at": max(due_at, result.fields.get("next_attempt_at") or due_at),
        }
        return Result(
            result.claim,
            TargetState.SCHEDULED,
            _untried_as(result, AttemptOutcome.MOVED),
            result.started,
            result.error,
            fields,
        )
    return result


def _untried_as(result: Result, outcome: AttemptOutcome) -> AttemptOutcome:
    # The history says what a person's request did, unless the network was called (then, what it said).
    return outcome if result.outcome is None or result.outcome in _NOT_AN_ATTEMPT else result.outcome
