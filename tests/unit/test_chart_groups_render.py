"""Breakdown charts drawn for real (Agg): a 1200×675 PNG, one series per group with gaps, legend and title."""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from bot.charts.model import BreakdownChart, GroupSeries, Scope
from bot.charts.render import render
from bot.charts.render_groups import draw_breakdown, gid, legend_label
from bot.charts.worker import Renderer
from tests.unit.test_chart_render import assert_tick_labels_apart, png_size

START = date(2025, 8, 25)
NAMES = (
    "enterprise",
    "(none)",
    "small business",
    "vip",
    "public sector and education",
    "retail",
    "partners",
    "trial",
)
CENTRES = {"csat": (80.0, 20.0), "nps": (20.0, 60.0), "ces": (3.0, 1.5), "volume": (0.0, 0.0)}


def breakdown(metric: str = "csat", days: int = 30, groups: int = 9) -> BreakdownChart:
    """`groups` series (the ninth is "other" folding 4 groups); every group's day 3 is under min n."""
    rng = np.random.default_rng(11)
    since = datetime(START.year, START.month, START.day, 4, tzinfo=UTC)
    scope = Scope(
        "Delivery Ops", f"{days}d", since, since + timedelta(days=days), "America/New_York"
    )
    centre, spread = CENTRES[metric]
    series = []
    for index in range(groups):
        other = index == 8
        n = [0 if d == 3 else int(rng.integers(10, 60)) // (index + 1) + 10 for d in range(days)]
        value = [
            None if metric == "volume" or m < 10 else float(centre + spread * (rng.random() - 0.5))
            for m in n
        ]
        series.append(
            GroupSeries(
                name="other" if other else NAMES[index % len(NAMES)] + ("" if index < 8 else "2"),
                n=tuple(n),
                value=tuple(value),
                total=sum(n),
                overall=None if metric == "volume" else centre,
                folded=4 if other else 0,
            )
        )
    return BreakdownChart(
        scope=scope,
        metric=metric,
        by="segment",
        days=tuple(START + timedelta(days=d) for d in range(days)),
        groups=tuple(series),
        min_n=10,
    )


@pytest.mark.parametrize("days", [30, 365])
@pytest.mark.parametrize("metric", ["csat", "nps", "ces", "volume"])
def test_nine_series_render_a_1200_by_675_png(metric: str, days: int) -> None:
    png = render(breakdown(metric, days))
    assert png_size(png) == (1200, 675)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 675)
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000)) > 20


@pytest.mark.parametrize("metric", ["csat", "nps", "ces"])
def test_one_line_per_group_with_no_point_under_min_n(metric: str) -> None:
    data = breakdown(metric)
    fig = draw_breakdown(data)
    ax = fig.axes[0]
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert sorted(lines) == sorted(gid(i) for i in range(9))
    for index, group in enumerate(data.groups):
        y = np.asarray(lines[gid(index)].get_ydata(), dtype=float)
        assert [i for i in range(len(y)) if math.isnan(y[i])] == [3]
        assert y[0] == pytest.approx(group.value[0])
    # Nine different looks: colour and dash together tell every group apart.
    looks = {(line.get_color(), line.get_linestyle()) for line in lines.values()}
    assert len(looks) == 9
    assert lines[gid(8)].get_linestyle() == ":"  # "other" recedes


def test_legend_names_every_group_with_its_figure() -> None:
    data = breakdown("csat")
    fig = draw_breakdown(data)
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == [legend_label(data, g) for g in data.groups]
    assert texts[0] == f"enterprise\n80.0 % · n {data.groups[0].total:,}"
    assert texts[4].startswith("public sector a…\n")  # cut, so the plot keeps the width
    assert texts[8].startswith("other (4 groups)\n")
    assert legend.get_title().get_text() == "a point needs n ≥ 10"
    small = GroupSeries("smb", (4,), (None,), 4, None)
    assert legend_label(data, small) == "smb\nn 4, no rate"
    assert legend_label(breakdown("volume"), small) == "smb\n4 responses"


def test_title_names_the_breakdown_and_labels_stay_apart() -> None:
    fig = draw_breakdown(breakdown("nps", 365))
    assert fig.get_suptitle() == "NPS by segment — Delivery Ops, last 365d"
    assert fig.axes[0].get_xlabel() == "Day (America/New_York)"
    assert_tick_labels_apart(fig, fig.axes[0])
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    plot = fig.axes[0].get_window_extent(renderer)
    assert legend.x0 >= plot.x1 and legend.x1 <= fig.bbox.width and legend.y0 >= 0


def test_volume_stacks_the_groups_into_the_day_total() -> None:
    data = breakdown("volume")
    ax = draw_breakdown(data).axes[0]
    tops = {}
    for patch in ax.patches:
        x = round(patch.get_x() + patch.get_width() / 2, 6)
        tops[x] = max(tops.get(x, 0), patch.get_y() + patch.get_height())
    totals = [sum(g.n[d] for g in data.groups) for d in range(len(data.days))]
    assert sorted(tops.values()) == sorted(float(t) for t in totals)
    assert len(ax.patches) == 9 * len(data.days)


def test_no_group_with_enough_responses_still_draws() -> None:
    data = breakdown("csat")
    empty = [
        GroupSeries(g.name, g.n, (None,) * len(g.n), g.total, None, g.folded) for g in data.groups
    ]
    fig = draw_breakdown(BreakdownChart(**{**data.__dict__, "groups": tuple(empty)}))
    assert any("No group had 10 responses" in t.get_text() for t in fig.axes[0].texts)
    assert fig.axes[0].get_ylim() == pytest.approx((-3.0, 103.0))
    single = BreakdownChart(**{**data.__dict__, "groups": data.groups[:1], "days": data.days})
    assert png_size(render(single)) == (1200, 675)


def test_the_chart_worker_process_draws_a_breakdown() -> None:
    renderer = Renderer()
    try:
        assert png_size(renderer.render(breakdown("volume"))) == (1200, 675)
    finally:
        renderer.close()
