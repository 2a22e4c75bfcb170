"""Progress of a brand's objectives: each KPI measured over the objective's period, against its target.

A period under way is measured up to today. Cumulative KPIs (posts published) are compared with the
share of the target due by now (a straight line from 0 on the first day to the target on the last),
rates with the target itself. An objective whose period has ended is met or missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from tertulia.analytics.figures import Figures, figures
from tertulia.analytics.periods import Period
from tertulia.core.models.brand import Direction, Kpi, Objective

CUMULATIVE = frozenset({Kpi.POSTS_PUBLISHED})


class Status(StrEnum):
    NOT_STARTED = "not_started"
    NO_DATA = "no_data"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    MET = "met"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    @property
    def good(self) -> bool | None:
        return {Status.ON_TRACK: True, Status.MET: True, Status.BEHIND: False, Status.MISSED: False}.get(self)


STATUS_LABELS = {
    Status.NOT_STARTED: _("Not started"),
    Status.NO_DATA: _("Nothing measured yet"),
    Status.ON_TRACK: _("On track"),
    Status.BEHIND: _("Behind"),
    Status.MET: _("Met"),
    Status.MISSED: _("Missed"),
}


@dataclass(frozen=True)
class Progress:
    objective: Objective
    actual: float | None
    expected: float | None  # what the target asks for by today (cumulative KPIs); else the target
    elapsed: float  # share of the period gone, 0 to 1
    status: Status

    @property
    def percent_of_target(self) -> float | None:
        """How far along the target the actual is, for a progress bar (0 to 100)."""
        target = float(self.objective.target)
        if self.actual is None or not target:
            return None
        if self.objective.direction == Direction.AT_MOST:
            return 100.0 if self.actual <= target else max(0.0, round(100 * target / self.actual, 1))
        return max(0.0, min(100.0, round(100 * self.actual / target, 1)))


def _good(direction: str, actual: float, wanted: float) -> bool:
    return actual <= wanted if direction == Direction.AT_MOST else actual >= wanted


def judge(objective: Objective, actual: float | None, today: date) -> Progress:
    period = Period(objective.period_start, objective.period_end)
    if today < period.first:
        return Progress(objective, None, None, 0.0, Status.NOT_STARTED)
    elapsed = min(1.0, ((today - period.first).days + 1) / period.days)
    target = float(objective.target)
    ended = today > period.last
    expected = target * elapsed if objective.kpi in CUMULATIVE and not ended else target
    if actual is None:
        return Progress(objective, None, expected, elapsed, Status.NO_DATA)
    if ended:
        status = Status.MET if _good(objective.direction, actual, target) else Status.MISSED
    elif _good(objective.direction, actual, target) and (
        objective.kpi not in CUMULATIVE or objective.direction == Direction.AT_MOST
    ):
        status = Status.ON_TRACK
    elif objective.kpi in CUMULATIVE and objective.direction == Direction.AT_LEAST and actual >= target:
        status = Status.MET  # reached before the period ends
    else:
        status = Status.ON_TRACK if _good(objective.direction, actual, expected) else Status.BEHIND
    return Progress(objective, actual, expected, elapsed, status)


def progress(objectives: Iterable[Objective], today: date) -> list[Progress]:
    """Each objective's progress; objectives sharing a period share one read of the rollups."""
    read: dict[tuple[int, Period], Figures] = {}
    result = []
    for objective in objectives:
        period = Period(objective.period_start, objective.period_end).clipped(today)
        if period is None:
            result.append(judge(objective, None, today))
            continue
        key = (objective.brand_id, period)
        if key not in read:
            read[key] = figures(objective.brand, period)
        result.append(judge(objective, read[key].kpi(objective.kpi), today))
    return result
