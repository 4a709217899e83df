"""Draw chart data as a 1200×675 PNG for Slack: control, volume and pareto charts here, team charts in render_teams."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from bot.charts import control, style
from bot.charts.model import (
    BreakdownChart,
    ChartData,
    ControlChart,
    ParetoChart,
    SlaChart,
    TtrChart,
    VolumeChart,
)
from bot.charts.render_groups import MANY_DAYS, draw_breakdown
from bot.charts.render_teams import draw_sla, draw_ttr

# gid of the artists tests and the comment writer look up: stable names rather than legend wording.
GID_VALUE = "value"
GID_OUT_OF_CONTROL = "out_of_control"
GID_RULE = "rule"  # the Western Electric rule numbers written next to a flagged day
GID_CENTRE = "centre"
GID_CUMULATIVE = "cumulative"

# Above this ratio of the two daily maxima, cases share the response axis only as a flat line near zero.
_VOLUME_TWIN_RATIO = 4.0


def render(data: ChartData) -> bytes:
    """PNG bytes of exactly 1200×675 px."""
    fig = draw(data)
    buf = io.BytesIO()
    # No bbox_inches="tight": it crops to the content and the size would vary; constrained layout fits instead.
    fig.savefig(buf, format="png", dpi=style.DPI)
    return buf.getvalue()


def draw(data: ChartData) -> Figure:
    """The chart as a Figure (not yet rasterised), so tests can inspect its artists."""
    if isinstance(data, ControlChart):
        return draw_control(data)
    if isinstance(data, VolumeChart):
        return draw_volume(data)
    if isinstance(data, TtrChart):
        return draw_ttr(data)
    if isinstance(data, ParetoChart):
        return draw_pareto(data)
    if isinstance(data, SlaChart):
        return draw_sla(data)
    if isinstance(data, BreakdownChart):
        return draw_breakdown(data)
    raise TypeError(f"no renderer for {type(data).__name__}")


def draw_control(data: ControlChart) -> Figure:
    heading, y_label, (low, high) = style.METRIC_AXES[data.metric]
    fig, (ax,) = style.new_figure()
    days = list(data.days)
    many = len(days) > MANY_DAYS
    count_ax = _response_bars(ax, days, data.n)

    lower, upper = _nan(data.lower), _nan(data.upper)
    # steps-mid: a limit belongs to its whole day (it depends on that day's n), not to a slope between days.
    # Thinner over long periods: hundreds of steps at full weight would hide the values they bound.
    limit_look = {
        "drawstyle": "steps-mid",
        "color": style.ORANGE,
        "linewidth": 0.7 if many else 1.2,
        "zorder": 2,
    }
    ax.plot(days, lower, **limit_look, label="control limits")
    ax.plot(days, upper, **limit_look, label="_nolegend_")
    ax.axhline(
        data.centre,
        color=style.BLACK,
        linestyle="--",
        linewidth=1.2,
        zorder=2,
        gid=GID_CENTRE,
        label=f"centre {_format_value(data.metric, data.centre)}",
    )
    # NaN, not None → 0: a day without responses is unknown, and the line must break there.
    value = _nan(data.value)
    ax.plot(
        days,
        value,
        color=style.BLUE,
        linewidth=1.0 if many else 1.8,
        marker="o",
        markersize=2 if many else 4.5,
        label=heading,
        gid=GID_VALUE,
        zorder=3,
    )
    flagged = [i for i, out in enumerate(data.out_of_control) if out]
    ax.plot(
        [days[i] for i in flagged],
        value[flagged],
        linestyle="none",
        marker="o",
        markersize=7 if many else 10,
        markerfacecolor="none",
        markeredgecolor=style.VERMILLION,
        markeredgewidth=2,
        label="out of control",
        gid=GID_OUT_OF_CONTROL,
        zorder=4,
    )

    ax.set_ylim(*style.clamped_limits(ax, low, high))
    _rule_marks(ax, data, days, value, many)
    style.date_axis(ax)
    style.label(ax, x=style.day_axis_label(data.scope), y=y_label)
    style.set_titles(fig, ax, heading, data.scope)
    style.legend(fig, [ax, count_ax])
    return fig


def _rule_marks(ax: Axes, data: ControlChart, days: list, value: np.ndarray, many: bool) -> None:
    """Each day that breaks a Western Electric rule gets the rule's number(s) next to it ("1", "2,4"),
    above a day over the centre line and below one under it; judged against the period's limits drawn
    here (bot.charts.control.rule_marks)."""
    marks = control.rule_marks(data.metric, data.sums, data.n)
    if not any(marks):
        return
    look = {"color": style.VERMILLION, "fontsize": 7 if many else 9, "fontweight": "bold"}
    for i, rules in enumerate(marks):
        if rules:
            above = value[i] >= data.centre
            ax.annotate(
                ",".join(str(r) for r in rules),
                (date2num(days[i]), value[i]),
                xytext=(0, 9 if above else -9),
                textcoords="offset points",
                ha="center",
                va="bottom" if above else "top",
                gid=GID_RULE,
                zorder=5,
                **look,
            )
    # A legend entry saying what the numbers are; the marker is the digit itself.
    ax.plot(
        [],
        [],
        linestyle="none",
        marker="$n$",
        color=style.VERMILLION,
        label="rule broken (Western Electric 1–4)",
    )


def draw_volume(data: VolumeChart) -> Figure:
    fig, (ax,) = style.new_figure()
    days = list(data.days)
    _daily_bars(ax, days, data.responses, color=style.SKY_BLUE, label="responses", zorder=2)
    top_responses, top_cases = max(data.responses, default=0), max(data.cases, default=0)
    twin = top_cases > 0 and top_responses > _VOLUME_TWIN_RATIO * top_cases
    case_ax = ax.twinx() if twin else ax
    if twin:
        style.style_secondary(case_ax)
        case_ax.set_ylim(0, max(1, top_cases) * 1.15)
        case_ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        style.label(case_ax, y="Cases opened per day")
    many = len(days) > MANY_DAYS
    case_ax.plot(
        days,
        data.cases,
        color=style.VERMILLION,
        linewidth=0.9 if many else 1.8,
        marker="o",
        markersize=0 if many else 4,
        label="cases opened" + (" (right)" if twin else ""),
        zorder=3,
    )
    ax.set_ylim(0, max(1, top_responses, top_cases) * 1.1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    style.date_axis(ax)
    style.label(
        ax, x=style.day_axis_label(data.scope), y="Responses per day" if twin else "Per day"
    )
    style.set_titles(fig, ax, "Volume", data.scope)
    style.legend(fig, [ax, case_ax] if twin else [ax])
    return fig


def draw_pareto(data: ParetoChart) -> Figure:
    fig, (ax,) = style.new_figure()
    names = [cause.replace("_", " ") for cause in data.causes]
    positions = np.arange(len(names))
    ax.bar(positions, data.counts, width=0.7, color=style.BLUE, label="cases", zorder=2)
    ax.set_ylim(0, max(1, max(data.counts, default=0)) * 1.1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_xlim(-0.6, len(names) - 0.4)

    share_ax = ax.twinx()
    style.style_secondary(share_ax)
    share_ax.axhline(80, color=style.GREY, linestyle=":", linewidth=1.2, label="80 %")
    # clip_on off: the last point sits exactly on the 100 % edge and would be cut in half.
    share_ax.plot(
        positions,
        data.cumulative_percent,
        color=style.VERMILLION,
        marker="o",
        markersize=5,
        linewidth=1.8,
        label="cumulative %",
        gid=GID_CUMULATIVE,
        clip_on=False,
        zorder=3,
    )
    share_ax.set_ylim(0, 100)
    share_ax.set_yticks([0, 20, 40, 60, 80, 100])
    share_ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    style.label(share_ax, y="Cumulative share")

    style.category_labels(ax, names, axes_width_px=style.WIDTH_PX * 0.8)
    style.label(ax, x="Root cause", y="Cases")
    style.set_titles(fig, ax, "Root causes", data.scope)
    style.legend(fig, [ax, share_ax])
    return fig


def _response_bars(ax: Axes, days: list, n: Sequence[int]) -> Axes:
    """The day's n as pale bars on a right axis, kept in the lower third so they never hide the line."""
    count_ax = ax.twinx()
    style.style_secondary(count_ax)
    _daily_bars(
        count_ax, days, n, color=style.SKY_BLUE, alpha=0.45, label="responses (right)", zorder=1
    )
    count_ax.set_ylim(0, max(1, max(n, default=0)) * 3)
    count_ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    style.label(count_ax, y="Responses per day")
    # The twin is created on top; raise the primary axes and clear its background so the bars show behind.
    ax.set_zorder(count_ax.get_zorder() + 1)
    ax.patch.set_visible(False)
    return count_ax


def _daily_bars(ax: Axes, days: list, values: Sequence[int], **look: object) -> None:
    """One bar per day; past MANY_DAYS one filled step outline instead, as bars would be a pixel wide each and
    730 separate patches take a second to build."""
    if len(days) <= MANY_DAYS:
        ax.bar(days, values, width=0.9, **look)
        return
    start = date2num(days[0]) - 0.5
    ax.stairs(values, start + np.arange(len(days) + 1), fill=True, **look)


def _nan(values: Sequence[float | None]) -> np.ndarray:
    return np.array([math.nan if value is None else value for value in values], dtype=float)


def _format_value(metric: str, value: float) -> str:
    if metric == "csat":
        return f"{value:.1f} %"
    if metric == "nps":
        return f"{value:+.0f}"
    return f"{value:.2f}"
