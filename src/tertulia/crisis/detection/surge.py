"""The surge test: is what arrived in the last minutes unlikely under the baseline?

Every minute, for windows of 1, 2, 5, 15 and 60 minutes ending at the last complete minute:

* **Volume**: the tail probability P(X ≥ observed) of a negative binomial whose mean is the baseline's
  expectation for those minutes (scaled by the recent level) and whose variance is φ·m + alpha·m². Short
  windows catch a sudden surge in a minute or two; long ones a slow ramp that no single minute shows.
* **People**: the same test on how many different people wrote in each minute, against a baseline of its
  own. Messages come in bursts (one person's thread of replies) that make the volume noisy, so a short
  window needs a large excess to be unusual; a crisis is many people at once, and people per minute vary
  much less: this is what finds a surge on a quiet watch within two minutes.
* **Negative share**: P(K ≥ negative) out of the window's volume under a beta-binomial around the
  baseline's share, only with enough messages to judge.

A window is a surge when its tail probability is below the sensitivity's level divided by the number
of windows tested (a Bonferroni correction: the test is repeated), the count reaches a minimum and the
ratio to the expectation a floor. A surge is over when no window up to 15 minutes is even mildly unusual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tertulia.crisis.detection.baseline import Baseline
from tertulia.crisis.detection.stats import beta_binomial_sf, negative_binomial_sf

VOLUME_WINDOWS = (1, 2, 5, 15, 60)
SHARE_WINDOWS = (5, 15, 60)
# The recent level: minutes [now - 180, now - 30) against their expectation. A busier day than usual
# raises the expectation (up to x2); the last half hour is left out so that a rising surge does not raise
# its own bar. A quieter spell never lowers it: it may be our own gap (a poller down, a restart, the
# first minutes of the demo), and after it ordinary traffic would look like a surge.
LEVEL_FROM, LEVEL_TO = 180, 30
LEVEL_PRIOR = 30.0
LEVEL_MIN, LEVEL_MAX = 1.0, 2.0
HISTORY_MINUTES = LEVEL_FROM  # how many minutes of counts one evaluation reads
END_P = 0.01  # a surge is over when every window up to END_WINDOW has a tail probability above this
END_WINDOW = 15
MIN_SHARE_VOLUME = 10
MIN_SHARE_RISE = 0.15  # the share must rise by at least 15 points


@dataclass(frozen=True)
class Level:
    significance: float  # the family-wise tail probability per evaluation (volume)
    share_significance: float  # the same for the negative share
    min_count: int  # messages in the window (volume) or negative messages (share)
    min_ratio: float  # observed / expected


# Tuned on the benchmark's tuning seeds (bench/crisis_detector.py), reported on others.
SENSITIVITY: dict[str, Level] = {
    "low": Level(significance=1e-6, share_significance=1e-8, min_count=10, min_ratio=2.0),
    "normal": Level(significance=1e-4, share_significance=1e-6, min_count=6, min_ratio=1.5),
    "high": Level(significance=1e-3, share_significance=1e-5, min_count=4, min_ratio=1.3),
}


@dataclass(frozen=True)
class Finding:
    metric: str  # "volume", "people" or "negative"
    window: int  # minutes
    first_minute: int  # minute index of the window's first minute
    observed: float  # messages, or the negative share
    expected: float
    p_value: float
    count: int  # messages (volume) or negative messages in the window
    total: int  # messages in the window

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else float("inf")


def level_factor(volumes: Sequence[int], expected: Sequence[float]) -> float:
    """How busy the recent past was against the baseline (shrunk towards 1, clipped). Each minute
    counts at most 3x its expectation + 2, so a past surge barely raises the level after it."""
    n = len(volumes)
    if n <= LEVEL_TO:
        return 1.0
    lo = max(0, n - LEVEL_FROM)
    wanted = expected[lo : n - LEVEL_TO]
    observed = sum(map(min, volumes[lo : n - LEVEL_TO], [3 * e + 2 for e in wanted]))
    return min(max((observed + LEVEL_PRIOR) / (sum(wanted) + LEVEL_PRIOR), LEVEL_MIN), LEVEL_MAX)


@dataclass(frozen=True)
class People:
    """Different people per minute over the same minutes as the volumes, expected by their own baseline."""

    counts: Sequence[int]
    expected: Sequence[float]
    baseline: Baseline


def volume_tests(
    volumes: Sequence[int],
    expected: Sequence[float],
    baseline: Baseline,
    level: float,
    last_minute: int,
    rule: Level | None = None,
    after: int = -(2**62),
    metric: str = "volume",
) -> list[Finding]:
    """Each window's test of a count (messages, or people), only for windows above the expectation,
    passing the rule's floors and starting after `after`: the tail probability is only computed where
    it could matter."""
    found = []
    n = len(volumes)
    for window in VOLUME_WINDOWS:
        if window > n or last_minute - window + 1 <= after:
            break
        observed = sum(volumes[n - window :])
        mean = level * sum(expected[n - window :])
        if observed <= mean:
            continue
        if rule is not None and (observed < rule.min_count or observed < rule.min_ratio * mean):
            continue
        p = negative_binomial_sf(observed, mean, baseline.window_variance(mean)) if mean > 0 else 0.0
        found.append(Finding(metric, window, last_minute - window + 1, observed, mean, p, observed, observed))
    return found


def share_tests(
    volumes: Sequence[int],
    negatives: Sequence[int],
    baseline: Baseline,
    last_minute: int,
    rule: Level | None = None,
    after: int = -(2**62),
) -> list[Finding]:
    found = []
    n = len(volumes)
    share = baseline.negative_share
    for window in SHARE_WINDOWS:
        if window > n or last_minute - window + 1 <= after:
            break
        total = sum(volumes[n - window :])
        negative = sum(negatives[n - window :])
        if total < MIN_SHARE_VOLUME or negative / total < share + MIN_SHARE_RISE:
            continue
        if rule is not None and (negative < rule.min_count or negative / total < rule.min_ratio * share):
            continue
        p = beta_binomial_sf(negative, total, share, baseline.share_concentration)
        found.append(
            Finding("negative", window, last_minute - window + 1, negative / total, share, p, negative, total)
        )
    return found


def detect(
    volumes: Sequence[int],
    negatives: Sequence[int],
    expected: Sequence[float],
    baseline: Baseline,
    sensitivity: str,
    last_minute: int,
    open_metrics: frozenset[str] = frozenset(),
    quiet_after: dict[str, int] | None = None,
    people: People | None = None,
) -> list[Finding]:
    """The surges found at `last_minute` (the last element of the series), one per metric at most: the
    most significant window. Metrics with a surge already open are not tested again, and windows that
    reach back to a metric's last surge (`quiet_after`: its last minute) are not tested: the tail of a
    surge that just ended is not a new one."""
    quiet_after = quiet_after or {}
    if not baseline.ready:
        return []
    rule = SENSITIVITY.get(sensitivity, SENSITIVITY["normal"])
    found = []
    counts = [("volume", volumes, expected, baseline)]
    if people is not None and people.baseline.ready:
        counts.append(("people", people.counts, people.expected, people.baseline))
    for metric, series, wanted, learned in counts:
        if metric in open_metrics:
            continue
        level = level_factor(series, wanted)
        cut = rule.significance / len(VOLUME_WINDOWS)
        after = quiet_after.get(metric, -(2**62))
        tests = volume_tests(series, wanted, learned, level, last_minute, rule, after, metric)
        hits = [f for f in tests if f.p_value < cut]
        if hits:
            found.append(min(hits, key=lambda f: (f.p_value, f.window)))
    if "negative" not in open_metrics:
        cut = rule.share_significance / len(SHARE_WINDOWS)
        tests = share_tests(
            volumes, negatives, baseline, last_minute, rule, quiet_after.get("negative", -(2**62))
        )
        hits = [f for f in tests if f.p_value < cut]
        if hits:
            found.append(min(hits, key=lambda f: (f.p_value, f.window)))
    return found


def is_over(
    metric: str,
    volumes: Sequence[int],
    negatives: Sequence[int],
    expected: Sequence[float],
    baseline: Baseline,
    last_minute: int,
    people: People | None = None,
) -> bool:
    """Back within the baseline: no window up to 15 minutes has a tail probability below 1 %."""
    if metric == "people" and people is not None:
        level = level_factor(people.counts, people.expected)
        tests = volume_tests(people.counts, people.expected, people.baseline, level, last_minute)
    elif metric in ("volume", "people"):
        level = level_factor(volumes, expected)
        tests = volume_tests(volumes, expected, baseline, level, last_minute)
    else:
        tests = share_tests(volumes, negatives, baseline, last_minute)
    return all(f.p_value >= END_P for f in tests if f.window <= END_WINDOW)
