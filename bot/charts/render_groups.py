"""Draw breakdown charts: a line per group for csat / nps / ces, daily bars stacked by group for volume."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.charts import style
from bot.charts.groups import OTHER
from bot.charts.model import BreakdownChart, GroupSeries

# Each series' artists carry gid "group:<index>" (index in data.groups), for tests and anyone inspecting them.
GID_GROUP = "group"

# Past this many days (every chart kind) markers and lines thin out, and bars become one filled outline.
MANY_DAYS = 120
# Group names are cut here, so the legend at the side leaves the plot most of the width.
_NAME_LIMIT = 16


def draw_breakdown(data: BreakdownChart) -> Figure:
    if data.metric == "volume":
        return _draw_volume(data)
    return _draw_lines(data)


def gid(index: int) -> str:
    return f"{GID_GROUP}:{index}"


def legend_label(data: BreakdownChart, group: GroupSeries) -> str:
    """The group's name over its figure: 'vip\n85.0 % · n 420', 'smb\nn 6, no rate', 'other (3 groups)\n…'."""
    # The folded group's count stays whole; only a group's own name is cut.
    name = group.label if group.folded else style.shorten(group.name, _NAME_LIMIT)
    if data.metric == "volume":
        return f"{name}\n{group.total:,} responses"
    if group.overall is None:
        return f"{name}\nn {group.total:,}, no rate"
    return f"{name}\n{format_value(data.metric, group.overall)} · n {group.total:,}"


def side_legend(fig: Figure, ax: Axes, title: str | None = None) -> None:
    """One column right of the plot, in the series' order, as Grafana's legend on the right.

    Under the plot, nine name-and-figure entries take two columns and five rows, leaving the lines a strip a
    hundred pixels high at Slack's preview size; at the side the plot keeps its full height.
    """
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside right upper",
        ncol=1,
        title=title,
        title_fontsize=style.LEGEND_SIZE,
        alignment="left",
        frameon=False,
        fontsize=style.LEGEND_SIZE,
        handlelength=1.6,
        handletextpad=0.5,
        labelspacing=0.6,
        borderaxespad=0.2,
    )


def format_value(metric: str, value: float) -> str:
    if metric == "csat":
        return f"{value:.1f} %"
    if metric == "nps":
        return f"{value:+.0f}"
    return f"{value:.2f}"


def _look(index: int, group: GroupSeries) -> dict[str, object]:
    # "other" is a remainder, not a group to compare: grey and dotted, so the named groups stand out.
    if group.name == OTHER and group.folded:
        return {"color": style.GREY, "marker": ".", "linestyle": ":"}
    return style.series_style(index)


def _draw_lines(data: BreakdownChart) -> Figure:
    heading, y_label, (low, high) = style.METRIC_AXES[data.metric]
    fig, (ax,) = style.new_figure()
    days = list(data.days)
    many = len(days) > MANY_DAYS
    drawn = False
    for index, group in enumerate(data.groups):
        values = _nan(group.value)
        drawn = drawn or bool(np.isfinite(values).any())
        # NaN for a day under min_n: the line breaks there; markers keep a lone day between two gaps visible.
        ax.plot(
            days,
            values,
            **_look(index, group),
            linewidth=1.0 if many else 1.6,
            markersize=2 if many else 4,
            label=legend_label(data, group),
            gid=gid(index),
            zorder=3,
        )
    margin = (high - low) * 0.03
    if drawn:
        ax.set_ylim(*style.clamped_limits(ax, low, high))
    else:
        ax.set_ylim(low - margin, high + margin)
        ax.text(
            0.5,
            0.5,
            f"No group had {data.min_n} responses on any one day",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=style.LABEL_SIZE,
            color=style.GREY,
        )
    style.date_axis(ax)
    style.label(ax, x=style.day_axis_label(data.scope), y=y_label)
    style.set_titles(fig, ax, f"{heading} by {data.by}", data.scope)
    # Said where the groups are named: a missing point is too few responses, not a value of zero.
    side_legend(fig, ax, title=f"a point needs n ≥ {data.min_n}")
    return fig


def _draw_volume(data: BreakdownChart) -> Figure:
    # Stacked rather than side by side or as lines: the day's total stays readable, and nine groups of bars
    # a day would each be a pixel wide at Slack's preview size.
    fig, (ax,) = style.new_figure()
    days = list(data.days)
    bottom = np.zeros(len(days))
    for index, group in enumerate(data.groups):
        counts = np.asarray(group.n, dtype=float)
        _stack(ax, days, bottom, counts, index, group, legend_label(data, group))
        bottom += counts
    ax.set_ylim(0, max(1.0, float(bottom.max(initial=0))) * 1.1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    style.date_axis(ax)
    style.label(ax, x=style.day_axis_label(data.scope), y="Responses per day")
    style.set_titles(fig, ax, f"Volume by {data.by}", data.scope)
    side_legend(fig, ax)
    return fig


def _stack(
    ax: Axes,
    days: list,
    bottom: np.ndarray,
    counts: np.ndarray,
    index: int,
    group: GroupSeries,
    label: str,
) -> None:
    color = _look(index, group)["color"]
    if len(days) <= MANY_DAYS:
        # A thin white edge keeps neighbouring segments apart where two colours are close in greyscale.
        ax.bar(
            days,
            counts,
            bottom=bottom,
            width=0.9,
            color=color,
            edgecolor="white",
            linewidth=0.3,
            label=label,
            gid=gid(index),
            zorder=2,
        )
        return
    # One filled outline per group: hundreds of one-pixel bars per group take seconds to build.
    edges = date2num(days[0]) - 0.5 + np.arange(len(days) + 1)
    ax.stairs(
        bottom + counts,
        edges,
        baseline=bottom.copy(),
        fill=True,
        color=color,
        label=label,
        gid=gid(index),
        zorder=2,
    )


def _nan(values: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)
