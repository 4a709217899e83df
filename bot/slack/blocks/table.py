"""Cells and lines of the monospace per-team tables (weekly summary, stats for all teams)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from bot.reports.weekly import Compliance
from bot.slack.blocks.fit import Listing
from bot.slack.blocks.text import escape, fmt_duration, fmt_number

MISSING = "—"
_FENCE = "```"


def metric_cell(value: float | None, n: int, decimals: int, unit: str = "") -> str:
    return MISSING if value is None else f"{fmt_number(value, decimals)}{unit} ({n})"


def duration_cell(td: timedelta | None) -> str:
    return MISSING if td is None else fmt_duration(td)


def percent_cell(c: Compliance) -> str:
    return MISSING if c.percent is None else f"{fmt_number(c.percent, 0)} %"


def table_line(cells: tuple[str, ...], widths: list[int]) -> str:
    # Padded on the raw text, escaped after: Slack shows &amp; as one character, even inside a code block.
    first, *rest = cells
    return (
        escape(first.ljust(widths[0]))
        + "  "
        + "  ".join(c.rjust(w) for c, w in zip(rest, widths[1:]))
    )


def table_listing(
    columns: tuple[str, ...], rows: Sequence[tuple[str, ...]], more: Callable[[int], str]
) -> Listing:
    """A row per line in code blocks; each section repeats the column names, so a table split over
    several sections still reads, and the rows that find no room are counted by `more`."""
    widths = [max(len(c) for c in column) for column in zip(columns, *rows)]
    head = table_line(columns, widths)
    return Listing(
        [table_line(cells, widths) for cells in rows],
        more,
        wrap=lambda lines: f"{_FENCE}\n{head}\n{lines}\n{_FENCE}",
    )
