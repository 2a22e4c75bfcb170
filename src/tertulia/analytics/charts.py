"""Line charts of daily figures, as plain numbers for an SVG viewBox (the templates draw them).

Bar charts of daily counts reuse the listening pages' geometry (web/views/listening_charts.py); a
line chart carries rates and times, where a missing day is a gap, not a zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 720
HEIGHT = 220
LEFT = 44
BOTTOM = 26
TOP = 10


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    when: date
    value: float


@dataclass(frozen=True)
class Line:
    name: str
    css: str  # a class for the stroke colour
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


def nice_top(value: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50… at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    step = 1.0
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def line_chart(
    days: Sequence[date],
    series: Sequence[tuple[str, str, dict[date, float | None]]],
    *,
    top: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> LineChart:
    """`series`: (name, css class, value per day). `top`: a fixed top of the y axis (100 for %)."""
    peak = max((v for _, _, values in series for v in values.values() if v is not None), default=0.0)
    top = top or nice_top(peak)
    base = height - BOTTOM
    plot_height = base - TOP
    plot_width = width - LEFT - 4
    step = plot_width / max(len(days) - 1, 1)
    lines = []
    for name, css, values in series:
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
            current.append(Point(LEFT + index * step, y, day, value))
        if current:
            segments.append(current)
        lines.append(Line(name, css, segments))
    ticks = [Tick(base - plot_height * n / 4, top * n / 4) for n in range(5)]
    every = max(1, len(days) // 8)
    labels = [Label(LEFT + i * step, day) for i, day in enumerate(days) if i % every == 0]
    return LineChart(lines, ticks, labels, width, height, LEFT, base, list(days))
