"""Cells and lines of the monospace per-team tables (weekly summary, stats for all teams)."""

from __future__ import annotations

from datetime import timedelta

from bot.reports.weekly import Compliance
from bot.slack.blocks.text import escape, fmt_duration, fmt_number

MISSING = "—"


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
