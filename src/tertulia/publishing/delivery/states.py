"""The delivery ledger's state machine, in one place.

    scheduled ──due time──▶ due ──claim (lease)──▶ claimed ──▶ sent
        ▲                    ▲                        │ ├──▶ failed          (refused; retries ran out)
        │                    └── retry, rate limit, ──┘ └──▶ needs_attention (reconnect; outcome unknown)
        │                        pause, lost lease
        └── reschedule (a person) ◀── failed, needs_attention, due

Every move is a conditional UPDATE on the state it leaves (and, from `claimed`, on the lease token),
so two workers can never both move the same row: the one that finds it changed does nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from tertulia.publishing.models import DeliveryTarget, TargetState

S = TargetState
TRANSITIONS: dict[TargetState, frozenset[TargetState]] = {
    S.SCHEDULED: frozenset({S.DUE, S.SCHEDULED, S.CANCELLED}),
    S.DUE: frozenset({S.CLAIMED, S.SCHEDULED, S.CANCELLED}),
    S.CLAIMED: frozenset({S.SENT, S.FAILED, S.NEEDS_ATTENTION, S.DUE, S.CLAIMED, S.SCHEDULED, S.CANCELLED}),
    S.FAILED: frozenset({S.SCHEDULED, S.DUE, S.CANCELLED}),
    S.NEEDS_ATTENTION: frozenset({S.SCHEDULED, S.DUE, S.SENT, S.CANCELLED}),
    S.SENT: frozenset(),
    S.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    pass


def allowed(source: TargetState | str, target: TargetState | str) -> bool:
    return TargetState(target) in TRANSITIONS[TargetState(source)]


def move(
    target_id: int,
    source: TargetState,
    to: TargetState,
    *,
    lease_token: int | None = None,
    **fields: Any,
) -> bool:
    """Move one row from `source` to `to` if it is still in `source` (and still under `lease_token`).

    Returns whether this caller made the move.
    """
    if not allowed(source, to):
        raise IllegalTransition(f"{source} → {to}")
    condition = Q(pk=target_id, state=source)
    if lease_token is not None:
        condition &= Q(lease_token=lease_token)
    fields.setdefault("updated_at", timezone.now())
    return DeliveryTarget.objects.filter(condition).update(state=to, **fields) == 1
