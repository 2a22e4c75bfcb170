"""Tail probabilities the surge test needs, in plain Python (no numerical library is a dependency).

Both sums start at the observed value and walk up the tail, where the terms shrink geometrically: the
test only asks when the observation is already above what was expected, so a few dozen terms suffice.
"""

from __future__ import annotations

import math
from collections.abc import Callable

_MAX_TERMS = 20_000
_RELATIVE = 1e-13


def negative_binomial_sf(observed: int, mean: float, variance: float) -> float:
    """P(X >= observed) for a count with this mean and variance (Poisson when the variance is the mean).

    The negative binomial is matched by moments: r = mean² / (variance - mean).
    """
    if observed <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    excess = variance - mean
    if excess <= mean * 1e-6:
        return _poisson_sf(observed, mean)
    r = mean * mean / excess
    p = r / (r + mean)  # the probability of a "success" in the usual parametrisation
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(r)

    def log_pmf(k: int) -> float:
        return math.lgamma(k + r) - base - math.lgamma(k + 1) + r * log_p + k * log_q

    return _upper_tail(observed, log_pmf, lambda k: (k + r) / (k + 1) * (1 - p))


def _poisson_sf(observed: int, mean: float) -> float:
    log_mean = math.log(mean)
    return _upper_tail(observed, lambda k: k * log_mean - mean - math.lgamma(k + 1), lambda k: mean / (k + 1))


def _upper_tail(start: int, log_pmf: Callable[[int], float], step: Callable[[int], float]) -> float:
    """Σ pmf(k) for k ≥ start: the first term in logs, then each from the previous by the ratio."""
    first = log_pmf(start)
    if first < -745:  # below the smallest double: the tail is 0 for every purpose here
        return 0.0
    term = math.exp(first)
    total = term
    k = start
    for _ in range(_MAX_TERMS):
        term *= step(k)
        k += 1
        total += term
        if term <= total * _RELATIVE:
            break
    return min(1.0, total)


def beta_binomial_sf(observed: int, trials: int, share: float, concentration: float) -> float:
    """P(K >= observed) out of `trials` when the share itself varies as Beta(share·c, (1-share)·c).

    A binomial with extra variance: the negative share of a brand's messages drifts from hour to hour,
    so a plain binomial would call every busy hour with a little more anger "significant".
    """
    if observed <= 0:
        return 1.0
    if observed > trials:
        return 0.0
    share = min(max(share, 1e-6), 1 - 1e-6)
    a, b = share * concentration, (1 - share) * concentration
    log_beta_ab = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    log_n = math.lgamma(trials + 1)

    def log_pmf(k: int) -> float:
        return (
            log_n
            - math.lgamma(k + 1)
            - math.lgamma(trials - k + 1)
            + math.lgamma(k + a)
            + math.lgamma(trials - k + b)
            - math.lgamma(trials + a + b)
            - log_beta_ab
        )

    first = log_pmf(observed)
    if first < -745:
        return 0.0
    term = math.exp(first)
    total = term
    for k in range(observed, trials):
        # pmf(k+1)/pmf(k) = (n-k)/(k+1) · (k+a)/(n-k-1+b)
        term *= (trials - k) / (k + 1) * (k + a) / (trials - k - 1 + b)
        total += term
        if term <= total * _RELATIVE:
            break
    return min(1.0, total)
