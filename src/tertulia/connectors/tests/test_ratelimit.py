from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from tertulia.connectors import ratelimit
from tertulia.connectors.base import RateLimited

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _budgets():
    ratelimit.register("testnet", {"write": ratelimit.Budget(limit=5, window_seconds=60)})
    yield
    ratelimit._BUDGETS.pop("testnet", None)


def test_spending_stops_at_the_limit_and_says_how_long_to_wait():
    now = timezone.now()
    for expected in (4, 3, 2, 1, 0):
        assert ratelimit.spend("testnet", "acct", "write", now=now).remaining == expected
    with pytest.raises(RateLimited) as caught:
        ratelimit.spend("testnet", "acct", "write", now=now + timedelta(seconds=10))
    assert caught.value.retry_after == pytest.approx(50)


def test_a_new_window_starts_after_the_old_one_ends():
    now = timezone.now()
    ratelimit.spend("testnet", "acct", "write", cost=5, now=now)
    state = ratelimit.spend("testnet", "acct", "write", now=now + timedelta(seconds=61))
    assert state.remaining == 4


def test_costs_and_accounts_are_separate():
    now = timezone.now()
    ratelimit.spend("testnet", "a", "write", cost=3, now=now)
    with pytest.raises(RateLimited):
        ratelimit.spend("testnet", "a", "write", cost=3, now=now)
    assert ratelimit.spend("testnet", "b", "write", cost=3, now=now).remaining == 2


def test_a_refused_request_costs_nothing():
    now = timezone.now()
    ratelimit.spend("testnet", "acct", "write", cost=4, now=now)
    with pytest.raises(RateLimited):
        ratelimit.spend("testnet", "acct", "write", cost=2, now=now)
    assert ratelimit.spend("testnet", "acct", "write", cost=1, now=now).remaining == 0


def test_the_networks_own_figures_win():
    now = timezone.now()
    ratelimit.observe(
        "testnet", "acct", "GET /mentions", limit=180, remaining=0, resets_at=now + timedelta(seconds=30)
    )
    with pytest.raises(RateLimited) as caught:
        ratelimit.spend("testnet", "acct", "GET /mentions", now=now)
    assert caught.value.retry_after == pytest.approx(30)
    assert ratelimit.state("testnet", "acct", "GET /mentions", now=now).limit == 180  # type: ignore[union-attr]  # the row exists: made just above


def test_hold_off_blocks_every_bucket_user_until_then_and_never_shortens():
    now = timezone.now()
    ratelimit.hold_off("testnet", "acct", "write", retry_after=120, now=now)
    ratelimit.hold_off("testnet", "acct", "write", retry_after=10, now=now)
    with pytest.raises(RateLimited) as caught:
        ratelimit.spend("testnet", "acct", "write", now=now + timedelta(seconds=60))
    assert caught.value.retry_after == pytest.approx(60)
    assert ratelimit.spend("testnet", "acct", "write", now=now + timedelta(seconds=121)).remaining == 4


def test_unknown_buckets_are_not_limited_until_the_network_says_so():
    for _ in range(50):
        ratelimit.spend("testnet", "acct", "unregistered")


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_exceed_the_budget_together():
    if connection.vendor != "postgresql":
        pytest.skip("needs a database whose writers wait for each other (PostgreSQL)")
    ratelimit.register("testnet", {"burst": ratelimit.Budget(limit=40, window_seconds=3600)})
    granted: list[int] = []

    def worker() -> None:
        try:
            for _ in range(30):
                try:
                    ratelimit.spend("testnet", "shared", "burst")
                    granted.append(1)
                except RateLimited:
                    pass
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 40
