"""Draw the per-team charts: time to resolve as box plots and weekly SLA compliance as lines."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from bot.charts import style
from bot.charts.model import SlaChart, TtrChart

GID_MEDIAN = "median"
GID_BOX = "box"
GID_SLA = "resolve_sla"

# Above this max/min spread a linear axis squashes the fast teams' boxes into a flat line at the bottom.
_LOG_SPREAD = 50.0
# Team names past this length are cut in the SLA legend, so 20 teams fit in 4 columns and 5 rows.
_LEGEND_NAME_LIMIT = 15


def draw_ttr(data: TtrChart) -> Figure:
    fig, (ax,) = style.new_figure()
    positions = list(range(len(data.boxes)))
    # The quartiles come precomputed from all cases: bxp draws them as given instead of re-deriving them from a sample.
    stats = [
        {
            "med": box.median,
            "q1": box.q1,
            "q3": box.q3,
            "whislo": box.whisker_low,
            "whishi": box.whisker_high,
            "fliers": list(box.fliers),
            "label": box.name,
        }
        for box in data.boxes
    ]
    artists = ax.bxp(
        stats,
        positions=positions,
        widths=0.55,
        patch_artist=True,
        showfliers=True,
        manage_ticks=False,
        boxprops={"facecolor": style.SKY_BLUE, "edgecolor": style.BLUE, "alpha": 0.9},
        medianprops={"color": style.BLACK, "linewidth": 2},
        whiskerprops={"color": style.BLUE},
        capprops={"color": style.BLUE},
        flierprops={
            "marker": "o",
            "markersize": 4,
            "markerfacecolor": "none",
            "markeredgecolor": style.GREY,
        },
    )
    for line in artists["medians"]:
        line.set_gid(GID_MEDIAN)
    for patch in artists["boxes"]:
        patch.set_gid(GID_BOX)
    ax.hlines(
        [box.sla_hours for box in data.boxes],
        [p - 0.4 for p in positions],
        [p + 0.4 for p in positions],
        colors=style.VERMILLION,
        linestyles="--",
        linewidth=2,
        label="resolve SLA",
        zorder=4,
        gid=GID_SLA,
    )
    ax.set_xlim(-0.6, len(positions) - 0.4)

    if _wants_log(data):
        ax.set_yscale("log")
        # Plain hour numbers (1, 10, 100) instead of 10², which few readers of a support dashboard parse at a glance.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        y_label = "Time to resolve\n(hours, log scale)"
    else:
        ax.set_ylim(bottom=0)
        y_label = "Time to resolve (hours)"

    style.category_labels(
        ax,
        [box.name for box in data.boxes],
        axes_width_px=style.WIDTH_PX * 0.85,
        counts=[box.n for box in data.boxes],
    )
    style.label(ax, y=y_label)
    style.set_titles(fig, ax, "Time to resolve", data.scope)
    box_key = Patch(
        facecolor=style.SKY_BLUE, edgecolor=style.BLUE, label="middle 50 % (line: median)"
    )
    style.legend(fig, [ax], extra=[box_key])
    return fig


def _wants_log(data: TtrChart) -> bool:
    """Log scale when every value is positive and the largest is over 50× the smallest (one slow team, many fast ones).

    Zero-hour resolutions keep the axis linear: a log axis cannot place them.
    """
    values = [
        v
        for box in data.boxes
        for v in (box.whisker_low, box.whisker_high, box.sla_hours, *box.fliers)
    ]
    if not values or min(values) <= 0:
        return False
    return max(values) / min(values) > _LOG_SPREAD


def draw_sla(data: SlaChart) -> Figure:
    # Stacked, not side by side: the weeks get the full width for their labels and line up between the panels.
    fig, (ax_ack, ax_resolve) = style.new_figure(2, sharex=True)
    x = [date2num(week) for week in data.weeks]
    few = len(data.weeks) <= 26
    for index, team in enumerate(data.teams):
        look = style.series_style(index)
        # NaN for a week with no deadline: no data is not 0 % compliance, so the line breaks there.
        panels = (
            (ax_ack, team.ack_percent, team.name),
            (ax_resolve, team.resolve_percent, "_nolegend_"),
        )
        for ax, percent, label in panels:
            ax.plot(
                x,
                _nan(percent),
                **look,
                linewidth=1.6 if few else 1.1,
                markersize=5 if few else 2.5,
                label=label,
                clip_on=False,
                zorder=3,
            )
    # A big legend leaves short panels: three ticks then, so the percent labels stay apart.
    ticks = [0, 25, 50, 75, 100] if len(data.teams) <= 8 else [0, 50, 100]
    for ax, what in ((ax_ack, "Acknowledged"), (ax_resolve, "Resolved")):
        ax.set_ylim(0, 100)
        ax.set_yticks(ticks)
        ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
        style.label(ax, y=what)
    if x:
        # Half a week each side, so the first and last markers do not sit on the axes' edges.
        ax_resolve.set_xlim(min(x) - 3.5, max(x) + 3.5)
    style.week_axis(ax_resolve, data.weeks, max_labels=10)
    style.label(ax_resolve, x=style.day_axis_label(data.scope, "Week starting"))
    style.set_titles(fig, ax_ack, "SLA compliance", data.scope)
    style.legend(fig, [ax_ack], max_label=_LEGEND_NAME_LIMIT)
    return fig


def _nan(values: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if value is None else value for value in values], dtype=float)
