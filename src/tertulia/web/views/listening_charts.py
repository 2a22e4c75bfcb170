"""Geometry for the listening pages' charts, drawn as SVG by the templates (no chart library, no script).

Every function returns plain numbers in a fixed viewBox; the templates add the <title>, <desc> and
a table of the same figures, so a chart is never the only way to read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tertulia.analytics.charts import nice_top

# The viewBox of the bar charts: wide, so labels stay legible when the SVG scales to the page.
WIDTH = 720
HEIGHT = 220
LEFT = 44  # room for the y-axis labels
BOTTOM = 26  # room for the x-axis labels
TOP = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    when: datetime | date
    label_x: float  # where the bar's x-axis label is centred
    labelled: bool  # whether the x axis shows this bar's label (every nth, so they never overlap)


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    ticks: list[Tick]
    width: int
    height: int
    left: int
    base: float  # the y of the x axis
    total: int
    peak: int

    @property
    def label_y(self) -> float:
        return self.base + 16

    @property
    def tick_x(self) -> int:
        return self.left - 6


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at or above `value`: the top of the y axis."""
    return int(nice_top(value))


def bar_chart(
    series: Sequence[tuple[datetime | date, int]], width: int = WIDTH, height: int = HEIGHT
) -> BarChart:
    peak = max((count for _, count in series), default=0)
    top = _nice_ceiling(peak)
    base = height - BOTTOM
    plot_height = base - TOP
    plot_width = width - LEFT - 4
    slot = plot_width / max(len(series), 1)
    gap = min(slot * 0.2, 4.0)
    every = max(1, round(len(series) / 8 + 0.49))  # at most about eight x labels
    bars = []
    for index, (when, count) in enumerate(series):
        bar_height = plot_height * count / top
        x = LEFT + index * slot + gap / 2
        bars.append(
            Bar(
                x=round(x, 2),
                y=round(base - bar_height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=round(bar_height, 2),
                value=count,
                when=when,
                label_x=round(LEFT + index * slot + slot / 2, 2),
                labelled=index % every == 0,
            )
        )
    ticks = [Tick(round(base - plot_height * part / 2, 2), top * part // 2) for part in (0, 1, 2)]
    if top == 1:
        ticks = [Tick(base, 0), Tick(TOP, 1)]
    return BarChart(bars, ticks, width, height, LEFT, base, sum(c for _, c in series), peak)


@dataclass(frozen=True)
class Sparkline:
    points: str  # for <polyline points="...">
    area: str  # the same line closed along the bottom, for a light fill
    width: int
    height: int
    total: int
    peak: int


def sparkline(values: Sequence[int], width: int = 120, height: int = 28) -> Sparkline:
    peak = max(values, default=0)
    count = len(values)
    step = width / max(count - 1, 1)
    coordinates = [
        (round(index * step, 1), round(height - 2 - (height - 4) * value / peak if peak else height - 2, 1))
        for index, value in enumerate(values)
    ] or [(0.0, float(height - 2)), (float(width), float(height - 2))]
    if len(coordinates) == 1:
        coordinates.append((float(width), coordinates[0][1]))
    points = " ".join(f"{x},{y}" for x, y in coordinates)
    area = f"0,{height} {points} {coordinates[-1][0]},{height}"
    return Sparkline(points, area, width, height, sum(values), peak)


SHARE_WIDTH = 600


@dataclass(frozen=True)
class Share:
    key: str
    label: str
    count: int
    percent: int  # rounded, for reading
    x: float  # in a SHARE_WIDTH wide viewBox
    width: float

    @property
    def text_x(self) -> float:
        return round(self.x + self.width / 2, 2)

    @property
    def fits(self) -> bool:
        """Whether the segment is wide enough to carry its own label."""
        return self.width >= 110


def shares(parts: Sequence[tuple[str, str, int]], scale: int = SHARE_WIDTH) -> list[Share]:
    """Segments of one stacked bar, `scale` wide, in the given order; each says its count and percent."""
    total = sum(count for _, _, count in parts)
    found: list[Share] = []
    x = 0.0
    for key, label, count in parts:
        part = count / total if total else 0.0
        found.append(Share(key, label, count, round(100 * part), round(x, 2), round(scale * part, 2)))
        x += scale * part
    return found


def days_between(start: date, end: date) -> list[date]:
    """Every day from `start` to `end`, both included (at most a year)."""
    days: list[date] = []
    current = start
    while current <= end and len(days) < 366:
        days.append(current)
        current += timedelta(days=1)
    return days
