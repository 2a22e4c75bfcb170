"""The detection pass, every 20 seconds (crisis/tasks.py): for each active watch, count, relearn the baseline
when it is due, end the surges that are over, and record the new ones (which raise alerts). The minute under
way is tested as far as it has gone, against the part of its expectation that has gone by.

Each watch is claimed with SELECT … FOR UPDATE SKIP LOCKED for its whole pass, so two workers share the
watches instead of doing them twice; a watch evaluated less than `MIN_GAP` ago is skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from tertulia.crisis.alerts import raise_for_surge
from tertulia.crisis.detection import counting, explain
from tertulia.crisis.detection.baseline import (
    HOURS_PER_WEEK,
    MIN_HOURS,
    Baseline,
    HourCount,
    hour_of_week,
    learn,
    minute_at,
    minute_index,
)
from tertulia.crisis.detection.surge import HISTORY_MINUTES, Finding, People, detect, is_over
from tertulia.crisis.models import Bucket, Surge, Watch

logger = logging.getLogger(__name__)

RELEARN_EVERY = timedelta(hours=6)
# Passes run every 20 s; one that comes sooner after the last (another worker's ticker) is skipped.
MIN_GAP = timedelta(seconds=15)


@dataclass
class Pass:
    watches: int = 0
    skipped: int = 0
    surges: list[int] = field(default_factory=list)
    ended: int = 0


def detect_all(now: datetime | None = None) -> Pass:
    now = now or timezone.now()
    counting.ensure_watches()
    done = Pass()
    for watch_id in Watch.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True):
        try:
            new = process(watch_id, now)
        except Exception:  # one broken watch must not stop the others
            logger.exception("crisis detection failed for watch %s", watch_id)
            continue
        if new is None:
            done.skipped += 1
            continue
        done.watches += 1
        done.surges += [surge.pk for surge in new]
    return done


def process(watch_id: int, now: datetime) -> list[Surge] | None:
    """One watch's pass; None when another worker holds it or it was done less than MIN_GAP ago."""
    minute = counting.floor_minute(now)
    with transaction.atomic():
        watch = (
            Watch.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("brand")
            .filter(pk=watch_id, is_active=True)
            .first()
        )
        if watch is None:
            return None
        if watch.evaluated_at is not None and now - watch.evaluated_at < MIN_GAP:
            return None
        # The hour is recounted by the first pass of each minute; the others recount the last two minutes.
        first_of_minute = watch.evaluated_at is None or counting.floor_minute(watch.evaluated_at) < minute
        late = counting.LATE_MINUTES if first_of_minute else 1
        counting.count(watch, now, save=False, late_minutes=late)
        baseline, people = refresh_baseline(watch, now)
        if not baseline.ready:
            baseline = rehearsal_baseline(watch, now) or baseline
        new = evaluate(watch, baseline, now, people)
        # In the same transaction: a surge is never recorded without its alert (which would also keep the
        # metric "open" and silence it). The alert's people are told once this commits.
        for surge in new:
            raise_for_surge(surge)
        watch.evaluated_at = now
        Watch.objects.filter(pk=watch.pk).update(evaluated_at=now, counted_until=watch.counted_until)
    return new


def refresh_baseline(watch: Watch, now: datetime) -> tuple[Baseline, Baseline]:
    """The baselines of messages and of people per minute, relearned when due (or never learned)."""
    stored = watch.baseline or {}
    zone = watch.brand.timezone or "UTC"
    fresh = watch.baseline_at is not None and now - watch.baseline_at < RELEARN_EVERY
    # A brand that moved to another time zone is relearned on its new clock at once.
    if fresh and stored and isinstance(stored.get("people"), dict) and stored.get("zone") == zone:
        return Baseline.from_json(stored), Baseline.from_json(stored["people"])
    messages, people = history(watch, now)
    baseline, people_baseline = learn(messages, zone), learn(people, zone)
    watch.baseline, watch.baseline_at = baseline.as_json() | {"people": people_baseline.as_json()}, now
    Watch.objects.filter(pk=watch.pk).update(baseline=watch.baseline, baseline_at=now)
    return baseline, people_baseline


def rehearsal_baseline(watch: Watch, now: datetime) -> Baseline | None:
    """While the detector is still learning a brand, a rehearsal staged on its sandbox channels is judged
    against the simulation's own base rate (flat, held uncertain), so practice works on a new brand too."""
    from tertulia.core.actions.rehearsals import rehearsals_for

    for crisis in rehearsals_for(watch.brand):
        if crisis.started_at - timedelta(minutes=5) <= now <= crisis.ends_at + timedelta(minutes=15):
            simulation = crisis.simulation
            per_target = simulation.rate_per_minute / max(1, len(simulation.handles))
            rate = max(per_target, 0.5)
            return Baseline(rates=(rate,) * HOURS_PER_WEEK, dispersion=1.5, alpha=0.1, hours=MIN_HOURS)
    return None


def history(watch: Watch, now: datetime) -> tuple[list[HourCount], list[HourCount]]:
    """The complete hours since the watch's first message (at most 28 days), the empty ones included: of
    messages (with the negative ones), and of people; each hour placed in the week on the brand's clock."""
    zone = watch.brand.timezone or "UTC"
    end = counting.floor_minute(now).replace(minute=0)
    oldest = end - timedelta(days=counting.HISTORY_DAYS)
    first = (
        Bucket.objects.filter(watch=watch, minute__gte=oldest)
        .order_by("minute")
        .values_list("minute", flat=True)
        .first()
    )
    if first is None:
        return [], []
    start = counting.floor_minute(first).replace(minute=0)
    rows = {
        counting.floor_minute(row["hour"]): row
        for row in Bucket.objects.filter(watch=watch, minute__gte=start, minute__lt=end)
        .annotate(hour=TruncHour("minute", tzinfo=UTC))
        .values("hour")
        .annotate(
            total=Sum("volume"),
            angry=Sum("negative"),
            squares=Sum(F("volume") * F("volume")),
            # Not named "people": F("people") below would mean the annotation, not the column.
            writers=Sum("people"),
            writers_squares=Sum(F("people") * F("people")),
        )
    }
    messages, people = [], []
    moment = start
    while moment < end:
        row = rows.get(moment)
        in_week = hour_of_week(moment, zone)
        if row is None:
            messages.append(HourCount(in_week, 0, 0, 0))
            people.append(HourCount(in_week, 0, 0, 0))
        else:
            messages.append(HourCount(in_week, row["total"], row["angry"], row["squares"]))
            people.append(HourCount(in_week, row["writers"], 0, row["writers_squares"]))
        moment += timedelta(hours=1)
    return messages, people


def series(watch: Watch, last: int) -> tuple[list[int], list[int], list[int]]:
    """Volumes, negatives and people of the minutes (indexes) last - HISTORY_MINUTES + 1 … last."""
    first = last - HISTORY_MINUTES + 1
    volumes, negatives, people = [0] * HISTORY_MINUTES, [0] * HISTORY_MINUTES, [0] * HISTORY_MINUTES
    for moment, volume, negative, persons in Bucket.objects.filter(
        watch=watch, minute__gte=minute_at(first), minute__lte=minute_at(last)
    ).values_list("minute", "volume", "negative", "people"):
        i = minute_index(moment) - first
        volumes[i], negatives[i], people[i] = volume, negative, persons
    return volumes, negatives, people


def evaluate(
    watch: Watch, baseline: Baseline, now: datetime, people_baseline: Baseline | None = None
) -> list[Surge]:
    if watch.counted_until is None:
        return []
    last = minute_index(watch.counted_until)  # the minute under way
    volumes, negatives, people_counts = series(watch, last)
    first = last - HISTORY_MINUTES + 1
    # How much of the minute under way its count covers: its expectation is scaled to match.
    gone = min(max((now - minute_at(last)).total_seconds() / 60.0, 1 / 60), 1.0)
    expected = _so_far(baseline.expected_series(first, HISTORY_MINUTES), gone)
    people = (
        People(
            people_counts,
            _so_far(people_baseline.expected_series(first, HISTORY_MINUTES), gone),
            people_baseline,
        )
        if people_baseline is not None and people_baseline.ready
        else None
    )
    # One query: the open surges, and those that ended within the minutes read (their tails).
    recent = list(
        Surge.objects.filter(watch=watch)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=now - timedelta(minutes=HISTORY_MINUTES)))
        .order_by("detected_at", "pk")
    )
    open_surges = {s.metric: s for s in recent if s.ended_at is None}
    # The latest end per metric (later rows overwrite earlier ones).
    quiet_after = {s.metric: minute_index(s.ended_at) for s in recent if s.ended_at is not None}
    for metric, surge in list(open_surges.items()):
        if is_over(metric, volumes, negatives, expected, baseline, last, people):
            surge.ended_at = now
            surge.save(update_fields=["ended_at"])
            del open_surges[metric]
            quiet_after[metric] = minute_index(now)
    findings = detect(
        volumes,
        negatives,
        expected,
        baseline,
        watch.sensitivity,
        last,
        frozenset(open_surges),
        quiet_after,
        people,
    )
    return [record_surge(watch, finding, now) for finding in findings]


def _so_far(expected: list[float], gone: float) -> list[float]:
    return [*expected[:-1], expected[-1] * gone]


def record_surge(watch: Watch, finding: Finding, now: datetime) -> Surge:
    start = minute_at(finding.first_minute)
    end = start + timedelta(minutes=finding.window)
    return Surge.objects.create(
        organization_id=watch.organization_id,
        brand_id=watch.brand_id,
        watch=watch,
        metric=finding.metric,
        started_at=start,
        detected_at=now,
        window_minutes=finding.window,
        observed=finding.observed,
        expected=finding.expected,
        ratio=finding.ratio if finding.expected > 0 else 0.0,
        p_value=finding.p_value,
        explanation=explain.explain(watch, finding, start, end),
        is_rehearsal=is_rehearsal(watch, start, end),
    )


def is_rehearsal(watch: Watch, start: datetime, end: datetime) -> bool:
    """A surge while a rehearsal staged on the brand's sandbox channels is running is practice."""
    from tertulia.core.actions.rehearsals import rehearsals_for

    return any(
        crisis.started_at - timedelta(minutes=5) <= end and crisis.ends_at + timedelta(minutes=15) >= start
        for crisis in rehearsals_for(watch.brand)
    )
