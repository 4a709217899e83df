"""The one look of every chart: size, palette, fonts, axes styling, titles and category/date tick labels."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import matplotlib.dates as mdates
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from bot.charts.model import Scope

# 1200×675 px: 16:9 is what Slack previews without cropping.
FIGSIZE = (8.0, 4.5)
DPI = 150
WIDTH_PX, HEIGHT_PX = 1200, 675

# Okabe–Ito: distinguishable with every common colour-vision deficiency and in greyscale print.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#7F7F7F"
GRID = "#DDDDDD"
# Yellow last: it has the least contrast against white, so it is only used once 7 series are drawn.
SERIES = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY_BLUE, BLACK, YELLOW)
# Beyond 8 series colour alone repeats, so marker and dash change with each pass through the palette.
MARKERS = ("o", "s", "^", "D")
DASHES = ("-", "--", ":", "-.")

# Slack shows the image at ~480 px, i.e. scaled by 0.4: 11 pt at 150 dpi still gives ~9 px glyphs there.
TITLE_SIZE = 16
SUBTITLE_SIZE = 12
LABEL_SIZE = 12
TICK_SIZE = 11
LEGEND_SIZE = 11

# metric: (heading, y label, natural range of the value); render.py keeps its own copy for the control charts.
METRIC_AXES = {
    "csat": ("CSAT", "% satisfied (4–5)", (0.0, 100.0)),
    "nps": ("NPS", "NPS (−100 to 100)", (-100.0, 100.0)),
    "ces": ("CES", "Mean effort (1–7, lower is better)", (1.0, 7.0)),
}

# Vertical category labels are cut here: 16 characters already take a third of the figure's height.
_VERTICAL_LABEL_LIMIT = 16
# A legend entry's handle, padding and column gap (1.6 + 0.5 + 1.2 em), in pixels.
_LEGEND_ENTRY_PX = 3.3 * LEGEND_SIZE * DPI / 72


def new_figure(nrows: int = 1, *, sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure of exactly WIDTH_PX × HEIGHT_PX with styled axes, detached from pyplot's global state."""
    # Figure + Agg canvas instead of pyplot: rendering runs in a worker, and pyplot keeps a global figure registry
    # (and current-figure state) that is not thread-safe and grows until each figure is explicitly closed.
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06, wspace=0.04, hspace=0.04)
    axes = fig.subplots(nrows, 1, sharex=sharex, squeeze=False)[:, 0]
    for ax in axes:
        style_axes(ax)
    return fig, list(axes)


def style_axes(ax: Axes, *, grid: bool = True) -> None:
    """Light grid behind the data, no top/right box, legible ticks; set per axes since rcParams are global."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=TICK_SIZE)
    if grid:
        ax.set_axisbelow(True)
        ax.grid(True, axis="y", color=GRID, linewidth=0.8)


def style_secondary(ax: Axes) -> None:
    """A twinx axis: only its right spine, no grid (two grids at different scales would be unreadable)."""
    for side in ("top", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=TICK_SIZE)
    ax.grid(False)


def label(ax: Axes, *, x: str | None = None, y: str | None = None) -> None:
    if x is not None:
        ax.set_xlabel(x, fontsize=LABEL_SIZE)
    if y is not None:
        ax.set_ylabel(y, fontsize=LABEL_SIZE)


def heading(what: str, scope: Scope) -> str:
    """'CSAT — Delivery Ops, last 30d'."""
    return f"{what} — {scope.title}, last {scope.period}"


def local_range(scope: Scope) -> tuple[date, date]:
    """First and last local day of the scope (until is exclusive)."""
    zone = ZoneInfo(scope.tz)
    first = scope.since.astimezone(zone).date()
    last = (scope.until - timedelta(microseconds=1)).astimezone(zone).date()
    return first, max(first, last)


def subheading(scope: Scope) -> str:
    """'Oct 2, 2025 – Oct 31, 2025 · America/New_York': the exact range and the zone the days are counted in."""
    first, last = local_range(scope)
    return f"{_day(first, year=True)} – {_day(last, year=True)} · {scope.tz}"


def set_titles(fig: Figure, ax: Axes, what: str, scope: Scope) -> None:
    """Bold heading over the whole figure, the date range and zone as a grey line over the (first) axes."""
    fig.suptitle(heading(what, scope), x=0.01, ha="left", fontsize=TITLE_SIZE, fontweight="bold")
    ax.set_title(subheading(scope), loc="left", fontsize=SUBTITLE_SIZE, color=GREY)


def day_axis_label(scope: Scope, unit: str = "Day") -> str:
    return f"{unit} ({scope.tz})"


def date_axis(ax: Axes) -> None:
    """Date ticks that never crowd: at most ~8 ticks whatever the span, 7 days or 2 years."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    formatter = mdates.ConciseDateFormatter(locator, show_offset=True)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    ax.xaxis.get_offset_text().set_fontsize(TICK_SIZE)


def week_axis(ax: Axes, weeks: Sequence[date], max_labels: int) -> None:
    """Ticks on week starts, thinned to at most max_labels, labelled 'Nov 16' (the year under its first tick)."""
    if not weeks:
        return
    step = max(1, math.ceil(len(weeks) / max_labels))
    shown = list(weeks[::step])
    labels = []
    previous_year = None
    for day in shown:
        text = _day(day)
        if day.year != previous_year:
            # The year only where it changes: 'Nov 16' alone is ambiguous over a 2-year period.
            text += f"\n{day.year}"
            previous_year = day.year
        labels.append(text)
    ax.set_xticks([mdates.date2num(day) for day in shown], labels)


def category_labels(
    ax: Axes,
    names: Sequence[str],
    *,
    axes_width_px: float,
    counts: Sequence[int] | None = None,
) -> None:
    """Category tick labels at 0..n-1 (with 'n=' counts if given): wrapped while they fit their slot, else vertical.

    Vertical rather than 45°: a slanted label's bounding box spans several slots, so long names collide.
    """
    ax.set_xticks(range(len(names)))
    if not names:
        return
    joined = "".join(names)
    char_px = text_width(ax.figure, joined, TICK_SIZE) / max(1, len(joined))
    slot_chars = int(axes_width_px / len(names) / char_px)
    words = [word for name in names for word in name.split()]
    if slot_chars >= 4 and all(len(word) <= slot_chars for word in words):
        wrapped = [textwrap.fill(name, slot_chars) for name in names]
        if max(text.count("\n") for text in wrapped) <= 2:
            if counts is not None:
                wrapped = [f"{text}\nn={count}" for text, count in zip(wrapped, counts)]
            ax.set_xticklabels(wrapped, fontsize=TICK_SIZE)
            return
    # Vertical labels take their height from the plot, so long names are cut (and counts left out) rather than
    # allowed to squash it.
    ax.set_xticklabels(
        [shorten(name, _VERTICAL_LABEL_LIMIT) for name in names], fontsize=TICK_SIZE, rotation=90
    )


def text_width(fig: Figure, text: str, size: float) -> float:
    """Rendered width in pixels, measured by the figure's Agg renderer: character counts are off by up to 20 %."""
    renderer = fig.canvas.get_renderer()
    width, _, _ = renderer.get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return width


def clamped_limits(ax: Axes, low: float, high: float) -> tuple[float, float]:
    """Autoscaled y range cut to the metric's natural range plus a margin, so markers at 100 % are not clipped."""
    bottom, top = ax.get_ylim()
    margin = (high - low) * 0.03
    bottom, top = max(bottom, low - margin), min(top, high + margin)
    if not (math.isfinite(bottom) and math.isfinite(top)) or top <= bottom:
        return low - margin, high + margin
    return bottom, top


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def series_style(index: int) -> dict[str, object]:
    """Colour, marker and dash of the index-th team line, unique for up to 32 teams."""
    turn = index // len(SERIES)
    return {
        "color": SERIES[index % len(SERIES)],
        "marker": MARKERS[turn % len(MARKERS)],
        "linestyle": DASHES[turn % len(DASHES)],
    }


def legend(
    fig: Figure,
    axes: Sequence[Axes] = (),
    *,
    extra: Sequence[Artist] = (),
    max_label: int | None = None,
) -> None:
    """One legend under the plot for the axes' entries (extra first): it never covers data, whatever the values.

    As many columns as fit the figure's width, balanced over the rows, so 3 entries make one row and 20 teams
    a compact block rather than a column taller than the figure.
    """
    handles: list[Artist] = list(extra)
    labels = [str(artist.get_label()) for artist in extra]
    for ax in axes:
        more_handles, more_labels = ax.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels
    if max_label is not None:
        labels = [shorten(text, max_label) for text in labels]
    if not labels:
        return
    entry_px = [text_width(fig, text, LEGEND_SIZE) + _LEGEND_ENTRY_PX for text in labels]
    fit = len(labels)
    while fit > 1 and (max(entry_px) * fit if fit < len(labels) else sum(entry_px)) > WIDTH_PX - 40:
        fit -= 1
    ncol = math.ceil(len(labels) / math.ceil(len(labels) / fit))
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=ncol,
        frameon=False,
        fontsize=LEGEND_SIZE,
        handlelength=1.6,
        handletextpad=0.5,
        columnspacing=1.2,
        borderaxespad=0.2,
    )


def _day(day: date, *, year: bool = False) -> str:
    # day.day, not %-d: the latter is glibc-only and fails on Windows/musl builds.
    return f"{day:%b} {day.day}" + (f", {day.year}" if year else "")
