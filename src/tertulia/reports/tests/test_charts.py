"""Report charts: the dashboards' geometry, drawn with presentation attributes a mail program keeps."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.utils import translation

from tertulia.analytics.charts import bar_chart, line_chart
from tertulia.reports import charts

DAYS = [date(2026, 3, 1) + timedelta(days=n) for n in range(10)]
HOSTILE = "<script>x</script>\u202e 🎉"


def test_bar_geometry_is_proportional_with_a_round_top() -> None:
    chart = bar_chart([(d, n * 3) for n, d in enumerate(DAYS)])
    assert chart.peak == 27 and chart.total == sum(n * 3 for n in range(10))
    assert [t.value for t in chart.ticks] == [0, 25, 50]  # top: 50, the round number above 27
    heights = [b.height for b in chart.bars]
    assert heights[0] == 0 and abs(heights[9] / heights[1] - 9) < 0.01
    assert all(b.y + b.height == chart.base for b in chart.bars)
    assert sum(b.labelled for b in chart.bars) <= 8


def test_line_geometry_breaks_at_missing_days() -> None:
    values: dict[date, float | None] = dict.fromkeys(DAYS, 10.0)
    values[DAYS[4]] = None
    chart = line_chart(DAYS, [("SLA", "line-a", values)], top=100)
    (line,) = chart.lines
    assert [len(s) for s in line.segments] == [4, 5]
    assert chart.ticks[-1].value == 100 and not chart.empty


def test_the_period_before_is_drawn_under_this_one_but_names_its_own_days() -> None:
    week = timedelta(days=7)
    values: dict[date, float | None] = dict.fromkeys(DAYS, 1.0)
    chart = line_chart(
        DAYS, [("Now", "line-a", values), ("Before", "line-muted", values)], drawn_ahead={"Before": week}
    )
    now, before = chart.lines
    assert [p.x for p in now.points] == [p.x for p in before.points]
    assert [p.when for p in before.points] == [d - week for d in DAYS]
    assert [p.when for p in now.points] == DAYS
    with translation.override("en"):
        svg = str(charts.line_svg(chart, "t"))
    assert "<title>Before, 22 Feb: 1</title>" in svg and "<title>Now, 1 Mar: 1</title>" in svg


def test_bar_svg_uses_attributes_not_classes_and_escapes() -> None:
    svg = str(charts.daily_bars(DAYS, {DAYS[2]: 7}, HOSTILE, "bar-good"))
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "class=" not in svg and "style=" not in svg and "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert len(re.findall(r"<rect ", svg)) == len(DAYS)
    assert f'fill="{charts.INK["bar-good"]}"' in svg


def test_line_svg_legend_matches_lines_and_gaps_stay_gaps() -> None:
    values: dict[date, float | None] = {d: float(n) for n, d in enumerate(DAYS)}
    values[DAYS[5]] = None
    svg, legend = charts.daily_lines(
        DAYS, [("Esta", "line-a", values), (HOSTILE, "line-muted", dict.fromkeys(DAYS, 1.0))], "t"
    )
    assert legend == [("Esta", charts.INK["line-a"]), (HOSTILE, charts.INK["line-muted"])]
    assert svg.count("<polyline") == 3  # the first line broken in two, the second whole
    assert "class=" not in svg and "<script" not in svg and "&lt;script&gt;" in svg


def test_labels_follow_the_report_language() -> None:
    april = [date(2026, 4, 1) + timedelta(days=n) for n in range(3)]
    with translation.override("es"):
        spanish = str(charts.daily_bars(april, {}, "t"))
    with translation.override("en"):
        english = str(charts.daily_bars(april, {}, "t"))
    assert "1 Abr" in spanish and "1 Apr" in english


def test_axis_figures_are_grouped_in_the_report_language() -> None:
    with translation.override("en"):
        english = str(charts.daily_bars(DAYS, {DAYS[0]: 24_000}, "t"))
    with translation.override("es"):
        spanish = str(charts.daily_bars(DAYS, {DAYS[0]: 24_000}, "t"))
    assert ">25,000</text>" in english and ">25\u00a0000</text>" in spanish
