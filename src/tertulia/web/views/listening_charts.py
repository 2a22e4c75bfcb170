"""Geometry for the listening pages' charts, drawn as SVG by the templates (no chart library, no script).

Every function returns plain numbers in a fixed viewBox; the templates add the <title>, <desc> and
a table of the same figures, so a chart is never the only way to read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Bar charts are the dashboards' (tertulia.analytics.charts); these are the listening pages' own.


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
