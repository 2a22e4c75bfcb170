"""Writing rows into the delivery ledger, and the moves a person makes on them.

Posts reach the ledger only through `enqueue` (called by the scheduling action once a post is
approved and has a time): one row per variant with the content frozen in `payload`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from tertulia.publishing.delivery import states
from tertulia.publishing.delivery.outcomes import refresh_post_state
from tertulia.publishing.models import DeliveryTarget, ErrorKind, Post, TargetState, Variant


def new_idempotency_key() -> str:
    # Short enough for every network's key field; random, so never reused across targets.
    return f"tt{uuid.uuid4().hex}"


@transaction.atomic
def enqueue(post: Post, due_at: datetime, payloads: Mapping[int, dict[str, Any]]) -> list[DeliveryTarget]:
    """A target per variant in `payloads` (variant id → what to send), due at `due_at`.

    A variant that already has a target keeps it (its time and content are updated only while it
    has not been taken by a worker): scheduling twice never makes two deliveries.
    """
    variants = {
        v.pk: v for v in Variant.objects.filter(post=post, pk__in=list(payloads)).select_related("channel")
    }
    existing = {
        t.variant_id: t
        for t in DeliveryTarget.objects.select_for_update().filter(variant_id__in=list(variants))
    }
    created = []
    for variant_id, payload in payloads.items():
        variant = variants[variant_id]
        found = existing.get(variant_id)
        if found is not None:
            for state in (
                TargetState.SCHEDULED,
                TargetState.DUE,
                TargetState.FAILED,
                TargetState.NEEDS_ATTENTION,
            ):
                if found.state == state and (state != TargetState.NEEDS_ATTENTION or not found.maybe_sent):
                    states.move(
                        found.pk,
                        state,
                        TargetState.SCHEDULED,
                        due_at=due_at,
                        next_attempt_at=due_at,
                        payload=payload,
                        # A new time is a fresh start: earlier failures do not shorten its retries.
                        attempts=0,
                        error_kind=ErrorKind.NONE,
                        last_error="",
                    )
            if found.state == TargetState.CLAIMED:
                _request_new_time(found.pk, due_at)
            continue
        created.append(
            DeliveryTarget(
                organization_id=post.organization_id,
                brand_id=post.brand_id,
                post=post,
                variant=variant,
                channel=variant.channel,
                state=TargetState.SCHEDULED,
                due_at=due_at,
                next_attempt_at=due_at,
                payload=payload,
                idempotency_key=new_idempotency_key(),
            )
        )
    DeliveryTarget.objects.bulk_create(created)
    return list(DeliveryTarget.objects.filter(post=post))


@transaction.atomic
def reschedule(post: Post, due_at: datetime) -> int:
    """Move every target not yet taken to a new time. Returns how many moved.

    A target a worker holds right now moves when the worker gives it back, or before its network
    call if the new time is later (what is already on the wire cannot be recalled).
    """
    moved = 0
    # Locked: a worker cannot claim or give back a row between this read and its move (PostgreSQL;
    # SQLite serialises the two transactions anyway).
    for target in DeliveryTarget.objects.select_for_update().filter(
        post=post, state__in=[TargetState.SCHEDULED, TargetState.DUE, TargetState.CLAIMED]
    ):
        if target.state == TargetState.CLAIMED:
            moved += _request_new_time(target.pk, due_at)
            continue
        moved += states.move(
            target.pk, TargetState(target.state), TargetState.SCHEDULED, due_at=due_at, next_attempt_at=due_at
        )
    return moved


def _request_new_time(target_id: int, due_at: datetime) -> int:
    return DeliveryTarget.objects.filter(pk=target_id, state=TargetState.CLAIMED).update(
        requested_due_at=due_at, updated_at=timezone.now()
    )


@transaction.atomic
def cancel(post: Post) -> int:
    """Stop what has not gone out. A target a worker holds is marked: the worker drops it before
    its network call, or when it gives it back; one already on the wire finishes (it cannot be
    recalled)."""
    cancelled = 0
    for target in DeliveryTarget.objects.select_for_update().filter(  # locked, as in `reschedule`
        post=post,
        state__in=[
            TargetState.SCHEDULED,
            TargetState.DUE,
            TargetState.FAILED,
            TargetState.NEEDS_ATTENTION,
            TargetState.CLAIMED,
        ],
    ):
        if target.state == TargetState.CLAIMED:
            cancelled += DeliveryTarget.objects.filter(pk=target.pk, state=TargetState.CLAIMED).update(
                cancel_requested=True, updated_at=timezone.now()
            )
            continue
        cancelled += states.move(target.pk, TargetState(target.state), TargetState.CANCELLED)
    refresh_post_state(post.pk)
    return cancelled


def retry(target: DeliveryTarget, now: datetime | None = None, *, checked_by_person: bool = False) -> bool:
    """A person asks for another try of a failed or stuck target (after reconnecting, say).

    A target that may already be out keeps that mark, so the retry looks for it first, unless
    `checked_by_person`: on a network that offers no way to look, the person who looked at the
    channel and did not find the post is the check, and the retry sends.
    """
    now = now or timezone.now()
    if target.state not in (TargetState.FAILED, TargetState.NEEDS_ATTENTION):
        return False
    extra: dict[str, Any] = {"maybe_sent": False} if checked_by_person else {}
    moved = states.move(
        target.pk,
        TargetState(target.state),
        TargetState.DUE,
        next_attempt_at=now,
        attempts=0,
        error_kind=ErrorKind.NONE,
        last_error="",
        **extra,
    )
    if moved:
        refresh_post_state(target.post_id)
    return moved


def mark_published(target: DeliveryTarget, url: str, now: datetime | None = None) -> bool:
    """A person checked the network and found the post there (a network with no way to look it up)."""
    now = now or timezone.now()
    if target.state != TargetState.NEEDS_ATTENTION:
        return False
    moved = states.move(
        target.pk,
        TargetState.NEEDS_ATTENTION,
        TargetState.SENT,
        url=url[:500],
        sent_at=now,
        error_kind=ErrorKind.NONE,
        last_error="",
    )
    if moved:
        refresh_post_state(target.post_id)
    return moved
