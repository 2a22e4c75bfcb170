"""Backtest of the crisis surge detector (tertulia.crisis.detection) on simulated traffic, no database.

Issue 8's goal: a surge of five times the expected volume alerted within two minutes of its start, and
fewer than one false alarm per simulated week of normal traffic.

The traffic, in slots of 5 seconds:

- a daily rhythm (quiet night, morning ramp, lunch and evening peaks) and a weekly one (weekends
  quieter and later), around a mean rate of `--rate` messages per minute;
- noise beyond Poisson: each day's level is drawn from a gamma (sd 15 %), each hour's from another
  (sd 10 %), and messages come in threads (1 + geometric extra messages, mean 1.4; a message after a
  thread's first is another person's 40 % of the time, else its author's again);
- a negative share around 15 % that drifts from day to day;
- four weeks of history before each evaluated week: both baselines (messages, people) are relearned
  every 6 hours from the last 28 days, as the job does.

Surges are injected into the evaluated week, one a day at a random minute and second between 07:00 and
23:00, 30 minutes long, of sizes x1.5, x2, x3, x5, x10 and two shapes: sudden (the multiple from its first
second) and ramp (rising linearly from x1 to the size over 15 minutes, then held); their messages come in
threads too, 60 % negative. The job is replayed as it runs (`--every 20`): at 5, 25 and 45 seconds past
each minute, on the minutes so far, the one under way partial with its expectation scaled to the part gone
(`--every 60`: once a minute, at 5 s, for comparison). A surge is detected when an alarm (volume, people or
negative share) opens while it lasts; the delay runs from the instant it began to the run that raised the
alarm. An alarm opened elsewhere (or more than 15 minutes after a surge) is false.

Tuning and reporting use different seeds (`--seeds`): the constants in surge.py were tuned on seeds
100-111 and the figures in docs/benchmarks.md are from seeds 11-18.

`--database N` measures instead the job on a database (PostgreSQL when DATABASE_URL is set, else SQLite in a
temporary TERTULIA_DATA_DIR): N brands, each with 7 days of per-minute history and an hour of inbox
messages at about one a minute; then the first pass (learning every baseline) and steady passes 20 s
apart (the first of a minute recounts the last hour, the others the last two minutes), timed per watch.

Usage:

    python bench/crisis_detector.py [--seeds 1,2,3,4] [--rate 2.0] [--sensitivities ...] [--sizes ...]
    DATABASE_URL=postgresql://... python bench/crisis_detector.py --database 300

Prints one line per figure. No figure here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from tertulia.crisis.detection.baseline import Baseline, hours_from_minutes, learn
from tertulia.crisis.detection.surge import HISTORY_MINUTES, SENSITIVITY, People, detect, is_over

DAY = 1440
WEEK = 7 * DAY
HISTORY_DAYS = 28
RELEARN_MINUTES = 360
SURGE_MINUTES = 30
RAMP_MINUTES = 15
SIZES = (1.5, 2.0, 3.0, 5.0, 10.0)
SHAPES = ("sudden", "ramp")
CLUSTER_EXTRA = 0.4  # mean extra messages per thread (geometric)
REPLY_BY_OTHERS = 0.4
# Traffic is simulated in slots of 5 seconds, so the job can be replayed as it runs: every 20 s, at 5, 25
# and 45 s past each minute (tertulia/crisis/tasks.py), on the minutes so far, the last one partial.
SLOTS = 12
EVALUATED_AT = (1, 5, 9)  # slots of the minute seen by each run: 5, 25 and 45 seconds

# Share of the day's traffic per hour (weekday, weekend), before normalising to the mean rate.
WEEKDAY = [0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.4, 0.8, 1.2, 1.4, 1.5, 1.6, 1.9, 1.8, 1.5, 1.4, 1.4, 1.5,
           1.6, 1.7, 1.9, 1.8, 1.2, 0.5]  # fmt: skip
WEEKEND = [0.3, 0.25, 0.15, 0.1, 0.08, 0.08, 0.15, 0.3, 0.5, 0.8, 1.0, 1.2, 1.4, 1.4, 1.2, 1.1, 1.1, 1.2,
           1.3, 1.4, 1.5, 1.4, 1.0, 0.6]  # fmt: skip
WEEKEND_FACTOR = 0.65


def shape(minute: int) -> float:
    """Expected rate multiplier at this minute of the (Monday-first) week, interpolated."""
    day, in_day = divmod(minute % WEEK, DAY)
    profile = WEEKEND if day >= 5 else WEEKDAY
    factor = WEEKEND_FACTOR if day >= 5 else 1.0
    position = in_day / 60.0 - 0.5
    low = math.floor(position)
    frac = position - low
    return factor * (profile[low % 24] * (1 - frac) + profile[(low + 1) % 24] * frac)


_NORM = statistics.fmean(shape(m) for m in range(0, WEEK, 5))


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


@dataclass
class Injected:
    start: int  # the minute it starts in
    size: float
    shape: str
    offset: float = 0.0  # how far into that minute it starts (0..1)

    @property
    def began(self) -> float:
        return self.start + self.offset


def covered(surge: Injected, minute: int, slot: int) -> float:
    """How much of a slot (0..1) of this minute the surge covers."""
    low, high = minute + slot / SLOTS, minute + (slot + 1) / SLOTS
    inside = min(high, surge.began + SURGE_MINUTES) - max(low, surge.began)
    return max(0.0, inside) * SLOTS


def size_at(surge: Injected, minute: int) -> float:
    """The surge's multiple of the usual rate in this minute (ramps rise over RAMP_MINUTES)."""
    if surge.shape == "ramp":
        return 1.0 + (surge.size - 1.0) * min(1.0, (minute - surge.start + 1) / RAMP_MINUTES)
    return surge.size


def threads(rng: random.Random, mean_messages: float) -> tuple[int, int]:
    """Messages and different people from threads totalling `mean_messages` on average: each thread is
    1 + geometric messages (mean 1.4); a message after a thread's first is another person's with
    probability REPLY_BY_OTHERS (a reply), else its author's again."""
    messages = people = 0
    for _ in range(poisson(rng, mean_messages / (1 + CLUSTER_EXTRA))):
        messages += 1
        people += 1
        while rng.random() < CLUSTER_EXTRA / (1 + CLUSTER_EXTRA):
            messages += 1
            people += rng.random() < REPLY_BY_OTHERS
    return messages, people


@dataclass
class Traffic:
    """Per minute: messages, negative ones, people; and the same counted up to each evaluated slot."""

    volumes: list[int]
    negatives: list[int]
    people: list[int]
    partial: list[
        tuple[tuple[int, int, int], ...]
    ]  # per minute, per EVALUATED_AT: (volume, negative, people)


def simulate(seed: int, rate: float, minutes: int, surges: list[Injected]) -> Traffic:
    rng = random.Random(seed)
    traffic = Traffic(
        [0] * minutes, [0] * minutes, [0] * minutes, [((0, 0, 0),) * len(EVALUATED_AT)] * minutes
    )
    day_level = hour_level = 1.0
    share = 0.15
    by_minute: dict[int, Injected] = {}
    for surge in surges:
        for offset in range(SURGE_MINUTES + 1):
            by_minute[surge.start + offset] = surge
    for minute in range(minutes):
        if minute % DAY == 0:
            day_level = rng.gammavariate(1 / 0.15**2, 0.15**2)
            share = min(0.4, max(0.05, rng.gauss(0.15, 0.03)))
        if minute % 60 == 0:
            hour_level = rng.gammavariate(1 / 0.1**2, 0.1**2)
        base = rate * shape(minute) / _NORM * day_level * hour_level / SLOTS
        injected = by_minute.get(minute)
        volume = negative = persons = 0
        partial = []
        for slot in range(SLOTS):
            count, people = threads(rng, base)
            negative += sum(1 for _ in range(count) if rng.random() < share)
            if injected is not None and (part := covered(injected, minute, slot)) > 0:
                extra, extra_people = threads(rng, base * (size_at(injected, minute) - 1.0) * part)
                count += extra
                people += extra_people
                negative += sum(1 for _ in range(extra) if rng.random() < 0.6)
            volume += count
            persons += people
            if slot + 1 in EVALUATED_AT:
                partial.append((volume, negative, persons))
        traffic.volumes[minute], traffic.negatives[minute], traffic.people[minute] = volume, negative, persons
        traffic.partial[minute] = tuple(partial)
    return traffic


@dataclass
class Alarm:
    metric: str
    opened: float  # when the job raised it, in minutes (a minute index and the fraction of it gone)
    first_minute: int


@dataclass
class Run:
    alarms: list[Alarm] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0


def backtest(traffic: Traffic, start: int, sensitivity: str, use_people: bool = True, every: int = 20) -> Run:
    """Replay the job from `start` to the end: every `every` seconds (20: at 5, 25 and 45 s past each
    minute; 60: once, 5 s past), both baselines relearned every 6 hours."""
    volumes, negatives, people = traffic.volumes, traffic.negatives, traffic.people
    runs = range(len(EVALUATED_AT)) if every == 20 else range(1)
    run = Run()
    open_metrics: dict[str, Alarm] = {}
    quiet_after: dict[str, int] = {}
    baseline = people_baseline = Baseline()
    expected: list[float] = []
    people_expected: list[float] = []
    for minute in range(start, len(volumes)):
        if (minute - start) % RELEARN_MINUTES == 0:
            first = max(0, minute - HISTORY_DAYS * DAY)
            baseline = learn(hours_from_minutes(first, volumes[first:minute], negatives[first:minute]))
            people_baseline = learn(hours_from_minutes(first, people[first:minute], [0] * (minute - first)))
            chunk_first = minute - HISTORY_MINUTES
            expected = baseline.expected_series(chunk_first, HISTORY_MINUTES + RELEARN_MINUTES)
            people_expected = people_baseline.expected_series(chunk_first, HISTORY_MINUTES + RELEARN_MINUTES)
        lo = minute - HISTORY_MINUTES + 1
        wanted = expected[lo - chunk_first : minute + 1 - chunk_first]
        people_wanted = people_expected[lo - chunk_first : minute + 1 - chunk_first]
        for index in runs:
            # The minute under way as far as it has gone, its expectation scaled to match.
            fraction = EVALUATED_AT[index] / SLOTS
            volume, negative, persons = traffic.partial[minute][index]
            window = (
                [*volumes[lo:minute], volume],
                [*negatives[lo:minute], negative],
                [*wanted[:-1], wanted[-1] * fraction],
            )
            crowd = (
                People(
                    [*people[lo:minute], persons],
                    [*people_wanted[:-1], people_wanted[-1] * fraction],
                    people_baseline,
                )
                if use_people
                else None
            )
            began = time.perf_counter()
            for metric in list(open_metrics):
                if is_over(metric, *window, baseline, minute, crowd):
                    del open_metrics[metric]
                    quiet_after[metric] = minute
            for finding in detect(
                *window, baseline, sensitivity, minute, frozenset(open_metrics), quiet_after, crowd
            ):
                alarm = Alarm(finding.metric, minute + fraction, finding.first_minute)
                open_metrics[finding.metric] = alarm
                run.alarms.append(alarm)
            run.seconds += time.perf_counter() - began
            run.evaluations += 1
    return run


def surge_schedule(seed: int, week_start: int, size: float, kind: str) -> list[Injected]:
    rng = random.Random(seed * 1000 + int(size * 10) + (1 if kind == "ramp" else 0))
    return [
        Injected(
            week_start + day * DAY + rng.randrange(7 * 60, 23 * 60 - SURGE_MINUTES), size, kind, rng.random()
        )
        for day in range(7)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="1,2,3,4")
    parser.add_argument("--rate", type=float, default=2.0, help="mean messages per minute over the week")
    parser.add_argument("--sensitivities", default="low,normal,high")
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--database", type=int, default=0, help="time the job on N watches in a database")
    parser.add_argument(
        "--every",
        type=int,
        choices=(20, 60),
        default=20,
        help="seconds between runs of the job (as it runs: 20)",
    )
    parser.add_argument(
        "--volume-only", action="store_true", help="leave out the people test (the detector before it)"
    )
    args = parser.parse_args()
    if args.database:
        database_cost(args.database)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    sensitivities = args.sensitivities.split(",")
    week_start = HISTORY_DAYS * DAY
    total = week_start + WEEK
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"# seeds {seeds}, mean rate {args.rate}/min, {HISTORY_DAYS} days of history, "
        "1 week evaluated per run"
    )

    # Normal traffic: false alarms per week.
    normal = {seed: simulate(seed, args.rate, total, []) for seed in seeds}
    cost: list[float] = []
    for sensitivity in sensitivities:
        false_alarms = 0
        by_metric = {"volume": 0, "people": 0, "negative": 0}
        for seed in seeds:
            run = backtest(normal[seed], week_start, sensitivity, not args.volume_only, args.every)
            false_alarms += len(run.alarms)
            for alarm in run.alarms:
                by_metric[alarm.metric] += 1
            cost.append(run.seconds / run.evaluations)
        print(
            f"{sensitivity:6} normal traffic: {false_alarms / len(seeds):.2f} false alarms per week "
            f"(volume {by_metric['volume']}, people {by_metric['people']}, "
            f"negative share {by_metric['negative']}, over {len(seeds)} weeks)"
        )

    # Injected surges.
    for sensitivity in sensitivities:
        for kind in [k for k in args.shapes.split(",") if k]:
            for size in [float(z) for z in args.sizes.split(",") if z]:
                injected = detected = true_alarms = false_alarms = within_two = 0
                delays: list[float] = []
                busy = [0, 0]  # surges starting where the usual rate is >= 2/min: injected, within 2 min
                for seed in seeds:
                    surges = surge_schedule(seed, week_start, size, kind)
                    traffic = simulate(seed, args.rate, total, surges)
                    run = backtest(traffic, week_start, sensitivity, not args.volume_only, args.every)
                    cost.append(run.seconds / run.evaluations)
                    for surge in surges:
                        injected += 1
                        hits = [
                            a for a in run.alarms if surge.began <= a.opened <= surge.began + SURGE_MINUTES
                        ]
                        # From the instant it began to the run of the job that raised the alarm.
                        delay = min(a.opened for a in hits) - surge.began if hits else math.inf
                        if hits:
                            detected += 1
                            delays.append(delay)
                            within_two += delay <= 2
                        usual = args.rate * shape(surge.start) / _NORM
                        if usual >= 2.0:
                            busy[0] += 1
                            busy[1] += delay <= 2
                    for alarm in run.alarms:
                        inside = any(s.began <= alarm.opened <= s.began + SURGE_MINUTES + 15 for s in surges)
                        if inside:
                            true_alarms += 1
                        else:
                            false_alarms += 1
                alarms = true_alarms + false_alarms
                precision = true_alarms / alarms if alarms else 1.0
                median = f"{statistics.median(delays):.1f}" if delays else "-"
                # The nearest-rank 90th percentile (never below the median, however few the delays).
                p90 = f"{sorted(delays)[math.ceil(0.9 * len(delays)) - 1]:.1f}" if delays else "-"
                print(
                    f"{sensitivity:6} {kind:6} x{size:<4} recall {detected / injected:5.1%} "
                    f"precision {precision:5.1%} delay median {median} p90 {p90} min "
                    f"within 2 min {within_two / injected:5.1%} ({injected} surges; where the usual rate "
                    f"is >= 2/min: {busy[1]}/{busy[0]} within 2 min)"
                )
    print(
        "cost of one evaluation (test + end check, one watch): "
        f"median {statistics.median(cost) * 1e6:.0f} µs, "
        f"max {max(cost) * 1e6:.0f} µs"
    )
    print(f"relearning one baseline from 28 days: {_learn_cost(normal[seeds[0]]) * 1e3:.1f} ms")
    print("levels: " + ", ".join(f"{name} {level}" for name, level in SENSITIVITY.items()))


def _learn_cost(traffic: Traffic) -> float:
    volumes, negatives = traffic.volumes, traffic.negatives
    began = time.perf_counter()
    for _ in range(10):
        learn(hours_from_minutes(0, volumes[: HISTORY_DAYS * DAY], negatives[: HISTORY_DAYS * DAY]))
    return (time.perf_counter() - began) / 10


def database_cost(watches: int) -> None:
    import os
    import tempfile
    from datetime import UTC, datetime, timedelta

    os.environ.setdefault("TERTULIA_DATA_DIR", tempfile.mkdtemp(prefix="tertulia-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from tertulia.core.models import Brand, Channel, Organization
    from tertulia.crisis.detection.run import detect_all
    from tertulia.crisis.models import Bucket, Surge, Watch, WatchKind
    from tertulia.inbox.models import Conversation, Message

    # The crisis app has no migration yet during its development: create its tables if missing.
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in (Watch, Bucket, Surge):
            if model._meta.db_table not in existing:
                editor.create_model(model)
    rng = random.Random(1)
    now = datetime(2026, 11, 18, 12, 30, 5, tzinfo=UTC)
    minute = now.replace(second=0)
    org = Organization.objects.create(name="Bench", slug=f"bench-{rng.randrange(10**9)}")
    print(f"# {connection.vendor}, {watches} brand watches, 7 days of history each")
    began = time.perf_counter()
    for n in range(watches):
        brand = Brand.objects.create(organization=org, name=f"Brand {n}", slug=f"b{n}")
        channel = Channel.objects.create(organization=org, brand=brand, network="sandbox", handle=f"@b{n}")
        watch = Watch.objects.create(
            organization=org, brand=brand, kind=WatchKind.BRAND, counted_until=minute - timedelta(minutes=61)
        )
        rows = []
        for back in range(61, 7 * DAY):
            at = minute - timedelta(minutes=back)
            volume = poisson(rng, 1.0)
            if volume:
                rows.append(
                    Bucket(watch=watch, minute=at, volume=volume, negative=volume // 4, people=volume)
                )
        Bucket.objects.bulk_create(rows, batch_size=5000)
        conversation = Conversation.objects.create(
            organization=org, brand=brand, channel=channel, key="k", kind="mention", last_message_at=now
        )
        Message.objects.bulk_create(
            Message(
                organization=org,
                brand=brand,
                channel=channel,
                conversation=conversation,
                remote_id=f"{n}-{i}",
                kind="mention",
                text=f"mensaje {i} sobre el pedido",
                sent_at=minute - timedelta(minutes=61 - i),
            )
            for i in range(61)
        )
    print(f"setup {time.perf_counter() - began:.1f} s")
    for label, at in (
        ("first pass (count, learn every baseline, test)", now),
        ("first pass of the next minute (recount the last hour, test)", now + timedelta(minutes=1)),
        ("20 s later (recount two minutes, test)", now + timedelta(minutes=1, seconds=20)),
        ("20 s later", now + timedelta(minutes=1, seconds=40)),
        ("first pass of the minute after", now + timedelta(minutes=2)),
    ):
        began = time.perf_counter()
        done = detect_all(at)
        took = time.perf_counter() - began
        print(
            f"{label}: {took:.2f} s for {done.watches} watches, {took / max(done.watches, 1) * 1e3:.1f} ms "
            f"per watch, {len(done.surges)} surges"
        )


if __name__ == "__main__":
    main()
