"""Report charts: the dashboards' geometry (tertulia.analytics.charts) drawn as inline SVG with
presentation attributes only (colours as `fill`/`stroke`, no class, no `style=`, no script, no
external file), so the same markup draws in a mail program, a browser and WeasyPrint, and the report
pages' Content-Security-Policy allows it. Drawn by templates, so every label is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from tertulia.analytics.charts import BarChart, LineChart, bar_chart, line_chart

# The dashboards' line classes (web/static/web/analytics.css) as colours a mail program keeps.
INK = {"line-a": "#1f6feb", "line-b": "#cf222e", "line-muted": "#8c959f", "bar-good": "#1a7f37"}
DEFAULT_INK = INK["line-a"]


def ink(css: str) -> str:
    return INK.get(css, DEFAULT_INK)


def bar_svg(chart: BarChart, title: str, css: str = "line-a") -> SafeString:
    context = {"chart": chart, "title": title, "color": ink(css)}
    return SafeString(render_to_string("reports/bar_chart.svg", context))


def line_svg(chart: LineChart, title: str) -> SafeString:
    context = {"chart": chart, "title": title, "lines": [(line, ink(line.css)) for line in chart.lines]}
    return SafeString(render_to_string("reports/line_chart.svg", context))


def daily_bars(days: Sequence[date], values: dict[date, int], title: str, css: str = "line-a") -> SafeString:
    """One bar per day of the period (a day without a value is a zero: these are counts)."""
    return bar_svg(bar_chart([(day, values.get(day, 0)) for day in days]), title, css)


def daily_lines(
    days: Sequence[date],
    series: Sequence[tuple[str, str, dict[date, float | None]]],
    title: str,
    drawn_ahead: Mapping[str, timedelta] | None = None,
) -> tuple[SafeString, list[tuple[str, str]]]:
    """The chart and its legend, (name, colour) per line; a day without a value is a gap."""
    chart = line_chart(days, series, drawn_ahead=drawn_ahead)
    return line_svg(chart, title), [(line.name, ink(line.css)) for line in chart.lines]
