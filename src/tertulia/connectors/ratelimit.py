"""Per-network, per-account request budgets that every worker respects.

Networks publish limits (Mastodon: 300 requests per 5 minutes; Bluesky: 5,000 write
points per hour; Instagram: 50 published posts per 24 hours; X: a window per
endpoint). A connector registers its budgets and calls `spend` before a request;
`observe` takes the network's own figures from response headers, and `hold_off`
records a 429's Retry-After so no worker tries again before then.

Windows are fixed and start with the first request after the previous one ended;
the network's own reset time, when it sends one, replaces ours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import RateLimited, RateLimitState
from tertulia.connectors.models import RateWindow

MAX_ACCOUNT = 255  # RateWindow.account's max_length


@dataclass(frozen=True)
class Budget:
    limit: int
    window_seconds: int


_BUDGETS: dict[str, dict[str, Budget]] = {}


def register(network: str, budgets: dict[str, Budget]) -> None:
    _BUDGETS.setdefault(network, {}).update(budgets)


def budget_for(network: str, bucket: str) -> Budget | None:
    return _BUDGETS.get(network, {}).get(bucket)


def _account_key(account: str) -> str:
    """The account as stored: a key longer than the column (a long instance address with a long
    handle, both from the network) becomes its digest, still one row per account."""
    if len(account) <= MAX_ACCOUNT:
        return account
    return "sha256:" + hashlib.sha256(account.encode()).hexdigest()


def _window(network: str, account: str, bucket: str) -> RateWindow:
    """The row for update, created on first use (a concurrent creator wins, we re-read)."""
    account = _account_key(account)
    found = (
        RateWindow.objects.select_for_update().filter(network=network, account=account, bucket=bucket).first()
    )
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return RateWindow.objects.create(network=network, account=account, bucket=bucket)
    except IntegrityError:
        return RateWindow.objects.select_for_update().get(network=network, account=account, bucket=bucket)


def _refused(network: str, until: datetime, now: datetime) -> RateLimited:
    wait = max((until - now).total_seconds(), 0.0)
    return RateLimited(
        _("%(network)s rate limit reached; try again in %(seconds)d s.")
        % {"network": network, "seconds": wait},
        retry_after=wait,
    )


@transaction.atomic
def spend(
    network: str, account: str, bucket: str, cost: int = 1, now: datetime | None = None
) -> RateLimitState:
    """Take `cost` from the budget, or raise RateLimited with how long to wait."""
    now = now or timezone.now()
    row = _window(network, account, bucket)
    if row.blocked_until and row.blocked_until > now:
        raise _refused(network, row.blocked_until, now)
    budget = budget_for(network, bucket)
    if row.resets_at is None or row.resets_at <= now:
        row.used = 0
        row.resets_at = now + timedelta(seconds=budget.window_seconds) if budget else None
        row.limit = budget.limit if budget else row.limit
    elif budget and not row.limit:
        row.limit = budget.limit
    if row.limit and row.used + cost > row.limit:
        row.save(update_fields=["used", "resets_at", "limit"])
        raise _refused(network, row.resets_at or now, now)
    row.used += cost
    row.save(update_fields=["used", "resets_at", "limit"])
    return RateLimitState(
        limit=row.limit, remaining=max(row.limit - row.used, 0), resets_at=row.resets_at or now
    )


@transaction.atomic
def observe(
    network: str, account: str, bucket: str, *, limit: int, remaining: int, resets_at: datetime
) -> None:
    """Adopt the network's own account of the window (e.g. x-rate-limit-* headers)."""
    row = _window(network, account, bucket)
    row.limit = max(limit, 0)
    row.used = max(limit - remaining, 0)
    row.resets_at = resets_at
    row.save(update_fields=["limit", "used", "resets_at"])


@transaction.atomic
def hold_off(
    network: str, account: str, bucket: str, retry_after: float, now: datetime | None = None
) -> None:
    """No request from any worker before `retry_after` seconds from now (a 429's hint)."""
    now = now or timezone.now()
    until = now + timedelta(seconds=max(retry_after, 0.0))
    row = _window(network, account, bucket)
    if row.blocked_until is None or row.blocked_until < until:
        row.blocked_until = until
        row.save(update_fields=["blocked_until"])


def state(network: str, account: str, bucket: str, now: datetime | None = None) -> RateLimitState | None:
    now = now or timezone.now()
    row = RateWindow.objects.filter(network=network, account=_account_key(account), bucket=bucket).first()
    if row is None or not row.limit:
        return None
    if row.resets_at is None or row.resets_at <= now:
        return RateLimitState(limit=row.limit, remaining=row.limit, resets_at=now)
    return RateLimitState(limit=row.limit, remaining=max(row.limit - row.used, 0), resets_at=row.resets_at)
