"""The baseline learns the daily and weekly rhythm; the test fires on surges (volume, negative share) and
not on normal seasonal peaks; sensitivity orders what fires. Pure functions, seeded traffic."""

from __future__ import annotations

import math
import random
from zoneinfo import ZoneInfo

from tertulia.crisis.detection.baseline import Baseline, HourCount, hours_from_minutes, learn
from tertulia.crisis.detection.stats import beta_binomial_sf, negative_binomial_sf
from tertulia.crisis.detection.surge import HISTORY_MINUTES, People, detect, is_over
from tertulia.crisis.tests.detect_support import poisson, rhythm

DAY = 1440


def traffic(seed: int, days: int, share: float = 0.1) -> tuple[list[int], list[int]]:
    """Poisson minutes with the test rhythm (weekday peak 3/min at 13:00, weekends 60 %), from a Monday."""
    rng = random.Random(seed)
    volumes, negatives = [], []
    for minute in range(days * DAY):
        volume = poisson(rng, rhythm(minute % DAY, (minute // DAY) % 7))
        volumes.append(volume)
        negatives.append(sum(1 for _ in range(volume) if rng.random() < share))
    return volumes, negatives


def run_detector(
    volumes: list[int], negatives: list[int], baseline: Baseline, start: int, end: int, sensitivity: str
) -> list[tuple[int, str, int]]:
    """(minute, metric, window) of every surge opened in [start, end), ending them as the job does."""
    opened: list[tuple[int, str, int]] = []
    open_metrics: set[str] = set()
    quiet: dict[str, int] = {}
    expected = baseline.expected_series(start - HISTORY_MINUTES + 1, end - start + HISTORY_MINUTES)
    for minute in range(start, end):
        lo = minute - HISTORY_MINUTES + 1
        args = (
            volumes[lo : minute + 1],
            negatives[lo : minute + 1],
            expected[lo - start + HISTORY_MINUTES - 1 :][:HISTORY_MINUTES],
        )
        for metric in list(open_metrics):
            if is_over(metric, *args, baseline, minute):
                open_metrics.discard(metric)
                quiet[metric] = minute
        for finding in detect(*args, baseline, sensitivity, minute, frozenset(open_metrics), quiet):
            open_metrics.add(finding.metric)
            opened.append((minute, finding.metric, finding.window))
    return opened


def test_tails_match_the_textbook_cases() -> None:
    poisson_tail = 1 - sum(math.exp(-2) * 2**k / math.factorial(k) for k in range(10))
    assert math.isclose(negative_binomial_sf(10, 2.0, 2.0), poisson_tail, rel_tol=1e-6)
    assert math.isclose(negative_binomial_sf(10, 2.0, 6.0), (2 / 3) ** 10, rel_tol=1e-6)  # geometric
    binomial = sum(math.comb(20, k) * 0.2**k * 0.8 ** (20 - k) for k in range(8, 21))
    assert math.isclose(beta_binomial_sf(8, 20, 0.2, 1e9), binomial, rel_tol=1e-4)
    assert beta_binomial_sf(8, 20, 0.2, 10) > binomial  # over-dispersion: a fatter tail
    assert negative_binomial_sf(0, 3.0, 3.0) == 1.0


def test_the_baseline_learns_the_daily_and_weekly_rhythm() -> None:
    volumes, negatives = traffic(seed=11, days=28)
    baseline = learn(hours_from_minutes(0, volumes, negatives))
    assert baseline.ready and baseline.hours == 28 * 24
    wednesday_13 = baseline.rates[2 * 24 + 13]
    wednesday_03 = baseline.rates[2 * 24 + 3]
    sunday_13 = baseline.rates[6 * 24 + 13]
    assert math.isclose(wednesday_13, rhythm(13 * 60 + 30, 2), rel_tol=0.15)
    assert math.isclose(wednesday_03, rhythm(3 * 60 + 30, 2), rel_tol=0.35)
    assert wednesday_13 > 4 * wednesday_03  # the daily rhythm
    assert math.isclose(sunday_13 / wednesday_13, 0.6, rel_tol=0.15)  # the weekly one
    assert math.isclose(baseline.negative_share, 0.1, abs_tol=0.02)
    assert baseline.dispersion < 1.3  # Poisson traffic: little over-dispersion found


def test_short_history_falls_back_to_the_daily_rhythm_and_the_level() -> None:
    volumes, negatives = traffic(seed=12, days=2)
    baseline = learn(hours_from_minutes(0, volumes, negatives))  # Monday and Tuesday only
    friday_13, tuesday_13 = baseline.rates[4 * 24 + 13], baseline.rates[1 * 24 + 13]
    assert math.isclose(friday_13, tuesday_13, rel_tol=0.2)  # no Friday seen: the hour of day stands in
    assert baseline.alpha >= 1 / 48  # and the level is held uncertain
    few = learn([HourCount(0, 30, 3, 40), HourCount(1, 30, 3, 40)])
    assert not few.ready  # under three hours: still learning
    assert learn([]).rates == Baseline().rates


def test_a_past_surge_does_not_teach_the_baseline() -> None:
    volumes, negatives = traffic(seed=13, days=28)
    clean = learn(hours_from_minutes(0, volumes, negatives))
    for minute in range(21 * DAY + 13 * 60, 21 * DAY + 14 * 60):  # a Monday, 13:00: ten times the traffic
        volumes[minute] *= 10
    dirty = learn(hours_from_minutes(0, volumes, negatives))
    assert math.isclose(dirty.rates[13], clean.rates[13], rel_tol=0.35)


def test_normal_weeks_with_their_peaks_raise_nothing() -> None:
    volumes, negatives = traffic(seed=21, days=35)
    baseline = learn(hours_from_minutes(0, volumes[: 28 * DAY], negatives[: 28 * DAY]))
    assert run_detector(volumes, negatives, baseline, 28 * DAY, 35 * DAY, "normal") == []


def test_traffic_back_after_a_gap_in_collection_is_not_a_surge() -> None:
    """Two hours with nothing counted (a poller down, the demo not yet started), then ordinary traffic:
    a quiet spell must not lower the bar, or the return of the usual volume looks like a surge."""
    volumes, negatives = traffic(seed=24, days=31)
    baseline = learn(hours_from_minutes(0, volumes[: 28 * DAY], negatives[: 28 * DAY]))
    back = 28 * DAY + 2 * DAY + 13 * 60  # Wednesday 13:00, the busiest hour
    for minute in range(back - 150, back):
        volumes[minute] = negatives[minute] = 0
    assert run_detector(volumes, negatives, baseline, back, back + 30, "normal") == []


def test_a_sudden_five_fold_surge_is_found_within_two_minutes() -> None:
    volumes, negatives = traffic(seed=22, days=29)
    baseline = learn(hours_from_minutes(0, volumes[: 28 * DAY], negatives[: 28 * DAY]))
    start = 28 * DAY + 12 * 60  # Monday 12:00, about 2.5 messages a minute usually
    rng = random.Random(5)
    for minute in range(start, start + 20):
        volumes[minute] += poisson(rng, 4 * rhythm(minute % DAY, 0))
    found = run_detector(volumes, negatives, baseline, start - 60, start + 20, "normal")
    assert found and found[0][1] == "volume"
    assert start <= found[0][0] <= start + 1  # the end of its first or second minute


def test_sensitivity_orders_what_fires() -> None:
    volumes, negatives = traffic(seed=23, days=29)
    baseline = learn(hours_from_minutes(0, volumes[: 28 * DAY], negatives[: 28 * DAY]))
    start = 28 * DAY + 13 * 60
    rng = random.Random(6)
    for minute in range(start, start + 30):  # 1.8 times the usual, for half an hour
        volumes[minute] += poisson(rng, 0.8 * rhythm(minute % DAY, 0))
    window = (start - 60, start + 30)
    high = run_detector(volumes, negatives, baseline, *window, "high")
    low = run_detector(volumes, negatives, baseline, *window, "low")
    assert high and not low


def test_a_rising_negative_share_is_a_surge_of_its_own() -> None:
    volumes, negatives = traffic(seed=24, days=31)
    baseline = learn(hours_from_minutes(0, volumes[: 28 * DAY], negatives[: 28 * DAY]))
    start = 28 * DAY + 12 * 60
    for minute in range(start, start + 30):  # the same volume, but most of it angry
        negatives[minute] = math.ceil(volumes[minute] * 0.7)
    found = run_detector(volumes, negatives, baseline, start - 60, start + 30, "normal")
    assert [metric for _, metric, _ in found] == ["negative"]


def test_people_per_minute_find_a_surge_that_threads_of_replies_hide() -> None:
    """Messages in threads (one person writing several in a row) make the volume noisy; a crowd of new
    people is found on people per minute with fewer messages than the volume test needs."""
    rng = random.Random(21)
    days = 14
    volumes, people = [], []
    for minute in range(days * DAY):
        threads = poisson(rng, rhythm(minute % DAY, (minute // DAY) % 7) / 2)
        volumes.append(sum(1 + poisson(rng, 1.0) for _ in range(threads)))  # 2 messages a thread
        people.append(threads)
    negatives = [0] * len(volumes)
    baseline = learn(hours_from_minutes(0, volumes, negatives))
    crowd = learn(hours_from_minutes(0, people, negatives))
    assert baseline.dispersion > 1.5 and crowd.dispersion < 1.3
    # Wednesday 13:00, the busiest minute: 9 new people in one minute and 9 in the next.
    start = days * DAY - 5 * DAY + 13 * 60
    for offset in (0, 1):
        volumes[start + offset] += 9
        people[start + offset] += 9
    last = start + 1
    lo = last - HISTORY_MINUTES + 1
    args = (volumes[lo : last + 1], negatives[lo : last + 1], baseline.expected_series(lo, HISTORY_MINUTES))
    found = People(people[lo : last + 1], crowd.expected_series(lo, HISTORY_MINUTES), crowd)
    assert [f.metric for f in detect(*args, baseline, "normal", last, people=found)] == ["people"]
    assert detect(*args, baseline, "normal", last) == []  # the volume alone does not see it


def test_the_rhythm_follows_the_brands_clock_across_summer_time() -> None:
    """Learned in Madrid's summer (UTC+2), used in its winter (UTC+1): 17:30 on the brand's clock is still
    the busy day, where a rhythm kept in UTC would expect the evening lull an hour early."""
    from datetime import UTC, datetime, timedelta

    from tertulia.crisis.detection.baseline import hour_of_week, minute_index

    def busy(moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo("Europe/Madrid"))
        return 9 <= local.hour < 18

    start = datetime(2026, 9, 27, 0, 0, tzinfo=UTC)  # four weeks before the clocks go back (25 October)
    hours = [start + timedelta(hours=n) for n in range(28 * 24)]
    # Busy from 09:00 to 18:00 on the brand's clock, and every hour a little different, so that reading
    # one hour for its neighbour shows.
    counts = [(600 if busy(h) else 60) + 5 * h.astimezone(ZoneInfo("Europe/Madrid")).hour for h in hours]
    local = learn(
        [
            HourCount(hour_of_week(h, "Europe/Madrid"), c, 0, c * c // 60)
            for h, c in zip(hours, counts, strict=True)
        ],
        "Europe/Madrid",
    )
    in_utc = learn(
        [HourCount(hour_of_week(h), c, 0, c * c // 60) for h, c in zip(hours, counts, strict=True)]
    )
    winter_1730 = minute_index(datetime(2026, 11, 4, 16, 30, tzinfo=UTC))  # a Wednesday, 17:30 in Madrid
    assert math.isclose(local.rate_at(winter_1730), (600 + 5 * 17) / 60, rel_tol=0.05)
    assert in_utc.rate_at(winter_1730) < 3  # an hour behind: it thinks the day is over
    # Every hour around the change (and the day either side) is read on the clock in force at that instant:
    # at half past, the rate is exactly that local hour's, in a single minute and in a series.
    from tertulia.crisis.detection.baseline import minute_at

    first = minute_index(datetime(2026, 10, 24, 0, 30, tzinfo=UTC))
    series = local.expected_series(first, 72 * 60)
    for hour in range(72):
        index = first + hour * 60
        truth = local.rates[hour_of_week(minute_at(index), "Europe/Madrid")]
        assert math.isclose(local.rate_at(index), truth) and math.isclose(series[hour * 60], truth)
    assert Baseline.from_json(local.as_json()).zone == "Europe/Madrid"
