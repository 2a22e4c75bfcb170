"""Report charts as inline SVG: no script, no external file, so the same markup draws in a mail
program, a browser and WeasyPrint. Only presentation attributes (no `style=`), which the pages'
Content-Security-Policy allows. Labels are escaped here; the result is safe to insert as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 28
COLORS = ("#1f6feb", "#9a6700", "#8250df", "#1a7f37", "#cf222e")
MUTED = "#8c959f"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per x label; None: not measured
    color: str = COLORS[0]


def nice_max(value: float) -> float:
    """A round upper bound for the axis (1, 2, 2.5, 5 times a power of 10) at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def _tick(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _frame(top: float, labels: Sequence[str], title: str) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">'
            f"{_tick(top * fraction)}</text>"
        )
    if labels:
        every = max(1, len(labels) // 8)
        step = plot_w / len(labels)
        for index in range(0, len(labels), every):
            x = LEFT + step * (index + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" fill="{MUTED}">'
                f"{escape(labels[index])}</text>"
            )
    return parts


def bar_chart(
    labels: Sequence[str], values: Sequence[float], title: str, color: str = COLORS[0]
) -> SafeString:
    top = nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(top, labels, title)
    if values:
        step = plot_w / len(values)
        width = max(1.0, step * 0.7)
        for index, value in enumerate(values):
            height = plot_h * max(value, 0) / top
            x = LEFT + step * index + (step - width) / 2
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" '
                f'width="{width:.1f}" height="{height:.1f}" '
                f'fill="{color}"><title>{escape(labels[index])}: {_tick(value)}</title></rect>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # every label and title above is escaped


def line_chart(labels: Sequence[str], series: Sequence[Series], title: str) -> SafeString:
    known = [v for s in series for v in s.values if v is not None]
    top = nice_max(max(known, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = _frame(top, labels, title)
    step = plot_w / max(len(labels), 1)
    for line in series:
        runs: list[list[str]] = [[]]
        for index, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            x = LEFT + step * (index + 0.5)
            y = TOP + plot_h * (1 - max(value, 0) / top)
            runs[-1].append(f"{x:.1f},{y:.1f}")
        for points in runs:
            if len(points) == 1:
                cx, cy = points[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{line.color}"/>')
            elif points:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" '
                    f'stroke="{line.color}" stroke-width="2"/>'
                )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # every label and title above is escaped
