"""Per-account rate limits in fixed windows, counted in the database.

The connector calls `consume` before every request, as a network's API gateway
would; the simulator's crowd writes through `network` directly and is not
limited (it stands for many different API clients).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.base import RateLimited, RateLimitState
from tertulia.connectors.sandbox.models import RateBucket, SandboxAccount, SandboxRateCounter


def _budget(account: SandboxAccount, bucket: str) -> tuple[int, int]:
    if bucket == RateBucket.WRITE:
        return account.write_limit, account.write_window_seconds
    return account.read_limit, account.read_window_seconds


def _window_start(now: datetime, seconds: int) -> datetime:
    """Windows are aligned to the epoch, so every process agrees on where one begins."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % max(seconds, 1), tz=UTC)


def consume(account: SandboxAccount, bucket: str, now: datetime | None = None) -> RateLimitState:
    """Count one request; raise RateLimited (with seconds until the window resets) when over budget."""
    now = now or timezone.now()
    limit, seconds = _budget(account, bucket)
    start = _window_start(now, seconds)
    resets_at = start + timedelta(seconds=seconds)
    with transaction.atomic():
        # The row lock serialises concurrent requests of one account across processes.
        counter, _created = SandboxRateCounter.objects.select_for_update().get_or_create(
            account=account, bucket=bucket, defaults={"window_started_at": start, "used": 0}
        )
        if counter.window_started_at != start:
            counter.window_started_at, counter.used = start, 0
        if counter.used >= limit:
            counter.save(update_fields=["window_started_at", "used"])
            retry_after = max((resets_at - now).total_seconds(), 0.001)
            raise RateLimited(
                _("Sandbox rate limit reached for @%(handle)s (%(limit)d %(bucket)s per %(seconds)d s).")
                % {
                    "handle": account.handle,
                    "limit": limit,
                    "bucket": str(RateBucket(bucket).label).lower(),
                    "seconds": seconds,
                },
                retry_after=retry_after,
            )
        counter.used += 1
        counter.save(update_fields=["window_started_at", "used"])
    return RateLimitState(limit=limit, remaining=limit - counter.used, resets_at=resets_at)


def state(account: SandboxAccount, bucket: str, now: datetime | None = None) -> RateLimitState:
    """The budget left in the current window, without spending any."""
    now = now or timezone.now()
    limit, seconds = _budget(account, bucket)
    start = _window_start(now, seconds)
    used = (
        SandboxRateCounter.objects.filter(account=account, bucket=bucket, window_started_at=start)
        .values_list("used", flat=True)
        .first()
    ) or 0
    return RateLimitState(
        limit=limit, remaining=max(limit - used, 0), resets_at=start + timedelta(seconds=seconds)
    )
