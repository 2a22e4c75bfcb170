"""Chart geometry: plain numbers in a fixed SVG viewBox, no chart library and no script.

One geometry for every chart of daily figures: the dashboards and the listening pages draw it with
CSS classes (web/templates/web/analytics/*_chart.html, web/listening/bar_chart.html), the reports
with presentation attributes for mail programs and the PDF renderer (tertulia.reports.charts).
A bar chart carries counts; a line chart carries rates and times, where a missing day is a gap, not
a zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# The viewBox: wide, so labels stay legible when the SVG scales to the page.
WIDTH = 720
HEIGHT = 220
LEFT = 44  # room for the y-axis labels
BOTTOM = 26  # room for the x-axis labels
TOP = 10
MAX_LABELS = 8  # x-axis labels at most, so they never overlap


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50… at or above `value` (at least 1): the top of the y axis."""
    if value <= 1:
        return 1.0
    step = 1.0
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


# ------------------------------------------------------------------ bars (counts)


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
class BarTick:
    y: float
    value: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    ticks: list[BarTick]
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


def bar_chart(
    series: Sequence[tuple[datetime | date, int]], width: int = WIDTH, height: int = HEIGHT
) -> BarChart:
    """`series`: (when, count) in order, one bar each."""
    peak = max((count for _, count in series), default=0)
    top = int(nice_top(peak))
    base = height - BOTTOM
    plot_height = base - TOP
    plot_width = width - LEFT - 4
    slot = plot_width / max(len(series), 1)
    gap = min(slot * 0.2, 4.0)
    every = max(1, round(len(series) / MAX_LABELS + 0.49))
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
    ticks = [BarTick(round(base - plot_height * part / 2, 2), top * part // 2) for part in (0, 1, 2)]
    if top == 1:
        ticks = [BarTick(base, 0), BarTick(TOP, 1)]
    return BarChart(bars, ticks, width, height, LEFT, base, sum(c for _, c in series), peak)


# ------------------------------------------------------------------ lines (rates, times, levels)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    when: date
    value: float


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # a class for the stroke colour (the reports map it to a colour)
    segments: list[list[Point]]  # broken where a day has no value

    @property
    def paths(self) -> list[str]:
        return [" ".join(f"{p.x:.1f},{p.y:.1f}" for p in segment) for segment in self.segments]

    @property
    def points(self) -> list[Point]:
        return [p for segment in self.segments for p in segment]


@dataclass(frozen=True)
class Tick:
    y: float
    value: float


@dataclass(frozen=True)
class Label:
    x: float
    when: date


@dataclass(frozen=True)
class LineChart:
    lines: list[Line]
    ticks: list[Tick]
    labels: list[Label]
    width: int
    height: int
    left: int
    base: float
    days: list[date]

    @property
    def label_y(self) -> float:
        return self.base + 16

    @property
    def tick_x(self) -> int:
        return self.left - 6

    @property
    def empty(self) -> bool:
        return not any(line.segments for line in self.lines)


def line_chart(
    days: Sequence[date],
    series: Sequence[tuple[str, str, dict[date, float | None]]],
    *,
    top: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    drawn_ahead: Mapping[str, timedelta] | None = None,
) -> LineChart:
    """`series`: (name, css class, value per day). `top`: a fixed top of the y axis (100 for %).
    `drawn_ahead`: per series name, how far ahead of its own days a series is drawn (the period
    before, under this one); its points still say the day their value is from."""
    peak = max((v for _, _, values in series for v in values.values() if v is not None), default=0.0)
    top = top or nice_top(peak)
    base = height - BOTTOM
    plot_height = base - TOP
    plot_width = width - LEFT - 4
    step = plot_width / max(len(days) - 1, 1)
    lines = []
    for name, css, values in series:
        ahead = (drawn_ahead or {}).get(name, timedelta(0))
        segments: list[list[Point]] = []
        current: list[Point] = []
        for index, day in enumerate(days):
            value = values.get(day)
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            y = base - plot_height * min(value, top) / top
            current.append(Point(LEFT + index * step, y, day - ahead, value))
        if current:
            segments.append(current)
        lines.append(Line(name, css, segments))
    ticks = [Tick(base - plot_height * n / 4, top * n / 4) for n in range(5)]
    every = max(1, len(days) // MAX_LABELS)
    labels = [Label(LEFT + i * step, day) for i, day in enumerate(days) if i % every == 0]
    return LineChart(lines, ticks, labels, width, height, LEFT, base, list(days))
