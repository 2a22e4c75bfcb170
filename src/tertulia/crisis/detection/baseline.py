"""The baseline: how many messages a watch usually gets at this minute of the week, and how noisy that is.

The model (docs/crisis-detection.md explains why):

* **Rhythm.** An expected rate per minute for each of the 168 hours of the week, on the brand's clock
  (its time zone: people's days follow summer time, so a rhythm kept in UTC would be an hour off for
  weeks after each change), learned from the hourly totals of the last weeks. Each hour-of-week rate is
  shrunk towards the hour-of-day rate, which is shrunk towards the overall level (empirical Bayes with
  fixed prior weights): with four weeks of history the hour-of-week dominates; with two days, the daily
  rhythm does; with three hours, the overall level. Between hours the rate is interpolated linearly, so
  the morning ramp has no steps.
* **Past surges do not teach the baseline.** Each hour is capped at 2x the median of its hour of the
  day + 10 for a first fit, then at 2x that fit + 10 for the second.
* **Noise.** Two numbers: a dispersion index φ for minute-level clustering (a thread of replies arrives
  together: variance φ·μ instead of μ), and alpha for the level wandering from day to day (variance + alpha·m²
  for a window expecting m). Both are moment estimates on the history, alpha floored while history is short.
* **Negative share.** The share of negative messages over the history (shrunk towards 15 %), and its
  hour-to-hour over-dispersion rho for a beta-binomial test.

Pure functions on plain numbers: the database side (tertulia.crisis.detection.run) feeds hourly totals
in and stores `as_json()` on the Watch; the benchmark feeds simulated traffic.
"""

from __future__ import annotations

import functools
import math
import statistics
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

HOURS_PER_WEEK = 168
# Prior weights, in minutes of history: how much an hour-of-day (resp. hour-of-week) rate leans on
# the level above it before its own data outweighs the prior.
DAY_PRIOR_MINUTES = 240.0
WEEK_PRIOR_MINUTES = 120.0
CLIP_FACTOR, CLIP_MARGIN = 2.0, 10.0
SHARE_PRIOR, SHARE_PRIOR_MESSAGES = 0.15, 20.0
# Below this much history the detector keeps quiet: it is still learning.
MIN_HOURS = 3
# Monday 2024-01-01 00:00 UTC: minute 0 of the minute index the pure functions use.
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def minute_index(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def minute_at(index: int) -> datetime:
    return EPOCH + timedelta(minutes=index)


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone, or None for UTC or a name this machine does not know (then the rhythm stays in UTC)."""
    if name in ("", "UTC"):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def local_shift(zone: str, minute: int) -> int:
    """Minutes to add to a (UTC) minute index to read it on the zone's clock at that moment."""
    found = _zone(zone)
    if found is None:
        return 0
    # The offset in force at that instant (a naive datetime would be read as local time: wrong for hours
    # around each change of the clocks).
    offset = minute_at(minute).astimezone(found).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def hour_of_week(moment: datetime, zone: str = "UTC") -> int:
    """Which of the 168 hours of the week `moment` falls in, on the zone's clock (Monday 00:00 is 0)."""
    found = _zone(zone)
    local = moment.astimezone(found) if found is not None else moment.astimezone(UTC)
    return local.weekday() * 24 + local.hour


class HourCount(NamedTuple):
    """One complete hour of history: which hour of the week, what arrived, and Σ(minute volume²)."""

    hour_of_week: int
    volume: int
    negative: int
    squares: int


@dataclass(frozen=True)
class Baseline:
    rates: tuple[float, ...] = field(default=(0.0,) * HOURS_PER_WEEK)  # expected messages per minute
    dispersion: float = 1.0  # φ: minute-level variance / mean
    alpha: float = 1.0  # level variance: var(window) = φ·m + alpha·m²
    negative_share: float = SHARE_PRIOR
    share_rho: float = 0.05  # intra-hour correlation of negativity (beta-binomial)
    hours: int = 0  # hours of history learned from
    zone: str = "UTC"  # the clock the hours of the week are on (the brand's time zone)

    @property
    def ready(self) -> bool:
        return self.hours >= MIN_HOURS

    def rate_at(self, minute: int, shift: int | None = None) -> float:
        """Expected messages in this minute (a UTC index), interpolated between hour centres of the
        baseline's clock (`shift`: that clock's offset in minutes, when the caller knows it)."""
        local = minute + (local_shift(self.zone, minute) if shift is None else shift)
        position = (local % (HOURS_PER_WEEK * 60)) / 60.0 - 0.5
        low = math.floor(position)
        frac = position - low
        return self.rates[low % HOURS_PER_WEEK] * (1 - frac) + self.rates[(low + 1) % HOURS_PER_WEEK] * frac

    def expected_series(self, first_minute: int, count: int) -> list[float]:
        first_shift = local_shift(self.zone, first_minute)
        if local_shift(self.zone, first_minute + count - 1) == first_shift:  # no clock change inside
            return [self.rate_at(first_minute + i, first_shift) for i in range(count)]
        return [self.rate_at(first_minute + i) for i in range(count)]

    def window_variance(self, mean: float) -> float:
        return self.dispersion * mean + self.alpha * mean * mean

    @property
    def share_concentration(self) -> float:
        return 1.0 / self.share_rho - 1.0

    def as_json(self) -> dict[str, Any]:
        return {
            "rates": [round(rate, 6) for rate in self.rates],
            "dispersion": self.dispersion,
            "alpha": self.alpha,
            "negative_share": self.negative_share,
            "share_rho": self.share_rho,
            "hours": self.hours,
            "zone": self.zone,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Baseline:
        if not data or len(data.get("rates") or ()) != HOURS_PER_WEEK:
            return cls()
        return cls(
            rates=tuple(float(rate) for rate in data["rates"]),
            dispersion=float(data.get("dispersion", 1.0)),
            alpha=float(data.get("alpha", 1.0)),
            negative_share=float(data.get("negative_share", SHARE_PRIOR)),
            share_rho=float(data.get("share_rho", 0.05)),
            hours=int(data.get("hours", 0)),
            zone=str(data.get("zone") or "UTC"),
        )

    def daily_profile(self) -> list[float]:
        """Expected messages per hour of the day, averaged over the week (for the settings page)."""
        return [60 * sum(self.rates[day * 24 + hour] for day in range(7)) / 7 for hour in range(24)]


def _profile(hours: Sequence[HourCount], volumes: Sequence[float]) -> tuple[float, ...]:
    day_sum, day_n = [0.0] * 24, [0] * 24
    week_sum, week_n = [0.0] * HOURS_PER_WEEK, [0] * HOURS_PER_WEEK
    for hour, volume in zip(hours, volumes, strict=True):
        week_sum[hour.hour_of_week] += volume
        week_n[hour.hour_of_week] += 1
        day_sum[hour.hour_of_week % 24] += volume
        day_n[hour.hour_of_week % 24] += 1
    level = sum(volumes) / (60.0 * len(hours))
    day = [
        (day_sum[d] + DAY_PRIOR_MINUTES * level) / (60.0 * day_n[d] + DAY_PRIOR_MINUTES) for d in range(24)
    ]
    return tuple(
        (week_sum[w] + WEEK_PRIOR_MINUTES * day[w % 24]) / (60.0 * week_n[w] + WEEK_PRIOR_MINUTES)
        for w in range(HOURS_PER_WEEK)
    )


def learn(hours: Sequence[HourCount], zone: str = "UTC") -> Baseline:
    """The baseline from complete hours of history (every hour, the empty ones too), oldest first, whose
    hours of the week are on `zone`'s clock."""
    if not hours:
        return Baseline(zone=zone)
    # A first, robust fit: each hour capped against the median of its hour of the day (a surge of
    # ten times in one hour would otherwise raise its own cap).
    by_hour: dict[int, list[int]] = {}
    for hour in hours:
        by_hour.setdefault(hour.hour_of_week % 24, []).append(hour.volume)
    medians = {d: statistics.median(values) for d, values in by_hour.items()}
    first = _profile(
        hours,
        [min(float(h.volume), CLIP_FACTOR * medians[h.hour_of_week % 24] + CLIP_MARGIN) for h in hours],
    )
    caps = [CLIP_FACTOR * 60 * first[hour.hour_of_week] + CLIP_MARGIN for hour in hours]
    clipped = [min(float(hour.volume), cap) for hour, cap in zip(hours, caps, strict=True)]
    rates = _profile(hours, clipped)

    # Noise, from the hours that were not clipped (a past surge is not the usual noise).
    minute_excess = minute_mean = level_excess = level_norm = 0.0
    kept: list[tuple[HourCount, float]] = []
    for hour, cap in zip(hours, caps, strict=True):
        if hour.volume > cap:
            continue
        mu = rates[hour.hour_of_week]
        kept.append((hour, mu))
        minute_excess += hour.squares - 2 * mu * hour.volume + 60 * mu * mu
        minute_mean += 60 * mu
    dispersion = min(max(minute_excess / minute_mean, 1.0), 20.0) if minute_mean > 0 else 1.0
    for hour, mu in kept:
        expected = 60 * mu
        level_excess += (hour.volume - expected) ** 2 - dispersion * expected
        level_norm += expected * expected
    alpha = max(level_excess / level_norm, 0.0) if level_norm > 0 else 1.0
    alpha = min(max(alpha, 0.003, 1.0 / len(hours)), 1.0)

    total = sum(hour.volume for hour, _ in kept)
    negative = sum(hour.negative for hour, _ in kept)
    share = (negative + SHARE_PRIOR * SHARE_PRIOR_MESSAGES) / (total + SHARE_PRIOR_MESSAGES)
    excess = norm = 0.0
    for hour, _ in kept:
        n = hour.volume
        if n >= 2:
            excess += (hour.negative - n * share) ** 2 - n * share * (1 - share)
            norm += n * (n - 1) * share * (1 - share)
    rho = min(max(excess / norm, 0.002), 0.3) if norm > 0 else 0.05
    return Baseline(
        rates=rates,
        dispersion=dispersion,
        alpha=alpha,
        negative_share=share,
        share_rho=rho,
        hours=len(hours),
        zone=zone,
    )


def hours_from_minutes(
    first_minute: int, volumes: Sequence[int], negatives: Sequence[int]
) -> list[HourCount]:
    """Complete hours from a per-minute series starting at `first_minute` (the benchmark's path)."""
    start = -first_minute % 60  # skip to the first hour boundary
    found = []
    for offset in range(start, len(volumes) - 59, 60):
        chunk = volumes[offset : offset + 60]
        hour_of_week = ((first_minute + offset) // 60) % HOURS_PER_WEEK
        found.append(
            HourCount(
                hour_of_week, sum(chunk), sum(negatives[offset : offset + 60]), sum(v * v for v in chunk)
            )
        )
    return found
