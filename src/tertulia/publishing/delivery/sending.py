"""Sending a batch of claimed targets, each exactly once.

The order of steps is the guarantee (docs/publishing.md, decision 0014):

1. the channel must be usable, and publishing not paused — the pause is checked again right before
   each network call, so a crisis switch stops even a batch already under way;
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
from collections.abc import Sequence
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
from tertulia.connectors.registry import open_connector
from tertulia.core.models import ChannelStatus
from tertulia.publishing.delivery import states
from tertulia.publishing.delivery.claims import Claim, lease_seconds
from tertulia.publishing.delivery.outcomes import targets_finished
from tertulia.publishing.delivery.pauses import is_paused
from tertulia.publishing.models import (
    AttemptOutcome,
    DeliveryAttempt,
    DeliveryTarget,
    ErrorKind,
    Rendition,
    TargetState,
)

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


def _find_or_publish(
    connector: Connector, target: DeliveryTarget, post: OutgoingPost, reconcile: bool
) -> tuple[PublishedPost | None, AttemptOutcome]:
    if reconcile:
        if connector.supports(Capability.FIND_OWN_POST):
            since = (target.first_attempt_at or timezone.now()) - timedelta(minutes=1)
            found = connector.find_own_post(target.idempotency_key, post, since=since)
            if found is not None:
                return found, AttemptOutcome.RECONCILED
        elif not connector.supports(Capability.IDEMPOTENT_PUBLISH) or _key_forgotten(connector, target):
            return None, AttemptOutcome.NEEDS_ATTENTION
    return connector.publish(post), AttemptOutcome.SENT


def _key_forgotten(connector: Connector, target: DeliveryTarget) -> bool:
    """The network no longer remembers our key (Mastodon: an hour): resending it may publish twice."""
    lifetime = connector.idempotency_key_seconds
    first = target.first_attempt_at
    return lifetime is not None and first is not None and timezone.now() - first > timedelta(seconds=lifetime)


def _send(target: DeliveryTarget, claim: Claim, started: datetime) -> Result:
    """One network call (or lookup) for a target whose intent is recorded."""
    channel = target.channel
    attempts = target.attempts + 1
    try:
        post = outgoing(target)
    except Exception as error:  # the frozen media cannot be read: nothing reached the network
        logger.exception("delivery %s: its payload cannot be read", target.pk)
        return _retry(claim, started, attempts, repr(error)[:500], uncertain=claim.reconcile)
    try:
        with open_connector(channel) as connector:
            published, outcome = _find_or_publish(connector, target, post, claim.reconcile)
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
        return Result(
            claim,
            TargetState.NEEDS_ATTENTION,
            AttemptOutcome.NEEDS_ATTENTION,
            started,
            message,
            {"maybe_sent": claim.reconcile, "error_kind": ErrorKind.CHANNEL, "last_error": message},
        )
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
        return Result(
            claim,
            TargetState.NEEDS_ATTENTION,
            AttemptOutcome.NEEDS_ATTENTION,
            started,
            message,
            {"error_kind": ErrorKind.UNCERTAIN, "last_error": message},
        )
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
    claims: Sequence[Claim], worker: str, blocked: dict[int, datetime] | None = None
) -> list[Result]:
    """Send every claimed target of one claim; `blocked` holds channels rate-limited until a moment."""
    blocked = {} if blocked is None else blocked
    started = timezone.now()
    deadline = time.monotonic() + max(lease_seconds() - min(SEND_MARGIN_SECONDS, lease_seconds() / 2), 0.0)
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
        if channel.status != ChannelStatus.ACTIVE:
            message = _("The channel @%(handle)s is %(status)s: reconnect or resume it, then retry.") % {
                "handle": channel.handle,
                "status": ChannelStatus(channel.status).label.lower(),
            }
            results.append(
                Result(
                    claim,
                    TargetState.NEEDS_ATTENTION,
                    AttemptOutcome.NEEDS_ATTENTION,
                    started,
                    message,
                    {"error_kind": ErrorKind.CHANNEL, "last_error": message},
                )
            )
        else:
            ready.append(target)
    marked = _mark_intent(ready, by_id, timezone.now()) if ready else set()
    for target in ready:
        if target.pk not in marked:
            continue  # the lease was lost between the claim and now: another worker has it
        claim = by_id[target.pk]
        now = timezone.now()
        until = blocked.get(target.channel_id)
        if until is not None and until > now:
            results.append(_given_back(claim, now, next_attempt_at=until))
        elif time.monotonic() > deadline:
            results.append(_given_back(claim, now))  # the lease is running out: the next round sends it
        elif is_paused(target.organization_id, target.brand_id):
            results.append(_given_back(claim, now, AttemptOutcome.PAUSED))
        else:
            result = _send(target, claim, now)
            if result.channel_blocked_until is not None:
                blocked[target.channel_id] = result.channel_blocked_until
            results.append(result)
    _record(results, worker)
    return results


def _record(results: Sequence[Result], worker: str) -> None:
    """Write the batch's results, each only under its own lease token, in one transaction."""
    if not results:
        return
    finished: list[tuple[int, TargetState, str]] = []
    history = []
    with transaction.atomic():
        for result in results:
            fields = dict(result.fields)
            if result.to == TargetState.DUE and result.outcome is None:
                fields["attempts"] = F("attempts") - 1  # given back untried: no attempt was made
            elif result.outcome == AttemptOutcome.RATE_LIMITED or result.outcome == AttemptOutcome.PAUSED:
                fields["attempts"] = F("attempts") - 1  # waiting is not a failure
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
            if result.to in (TargetState.SENT, TargetState.FAILED, TargetState.NEEDS_ATTENTION):
                finished.append((result.claim.target_id, result.to, result.error))
        DeliveryAttempt.objects.bulk_create(history)
        targets_finished(finished)
