"""Ephemeral answers listing cases (`list`) and showing one case with its timeline (`show`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cases.model import CaseDetail
from bot.reports.queries import CaseList
from bot.slack.blocks.case import (
    Block,
    case_blocks,
    case_fallback,
    context,
    event_line,
    section,
)
from bot.slack.blocks.describe import row_line
from bot.slack.blocks.fit import Listing, Part, fit_message
from bot.slack.blocks.text import clip, escape, one_line, plural
from config.teams import Team

TITLE_LIMIT = 200
# Characters the case or action above gives up, when its texts are long, so the timeline shows events.
TIMELINE_RESERVE = 4_000


def case_list(
    result: CaseList,
    *,
    title: str,
    teams: dict[str, Team],
    now: datetime,
    empty: str = "No cases to show. :tada:",
    command: str = "/feedback",
) -> dict[str, Any]:
    """A line per case; `empty` is the sentence shown when there are none (e.g. "No open cases for Delivery Ops. :tada:")."""
    heading = f"*{clip(one_line(title), TITLE_LIMIT)}*"
    if not result.rows:
        return fit_message(escape(one_line(empty)), [section(f"{heading}\n{escape(empty)}")])
    total = max(result.total, len(result.rows))

    def more(n: int) -> str:
        if not n:
            return ""
        return (
            f"{n} more, not shown ({total - n} of {total}). Narrow the list with "
            f"`{command} list TEAM overdue`, or open one case with `{command} show FB-n`."
        )

    lines = [
        row_line(row, teams[row.team].name if row.team in teams else None, now)
        for row in result.rows
    ]
    text = f"{clip(one_line(title), TITLE_LIMIT)}: {plural(total, 'case')}"
    return fit_message(text, [section(heading), Listing(lines, more, total=total)])


def case_detail(detail: CaseDetail, team: Team, *, now: datetime) -> dict[str, Any]:
    """The case message without buttons, then its timeline."""
    lines = [event_line(event, detail.case, team) for event in detail.events]
    return fit_message(
        case_fallback(detail, team), with_timeline(case_blocks(detail, team, now=now), lines)
    )


def with_timeline(blocks: list[Block], lines: list[str]) -> list[Part]:
    """`blocks`, then a "Timeline" of `lines`; the oldest lines give way to stay within the message
    (for a case's `show` and an action's `action CA-n`)."""
    timeline = Listing(
        lines,
        lambda n: f"{plural(n, 'earlier event')} not shown." if n else "",
        latest=True,  # what has to go is the start of the timeline
        reserve=TIMELINE_RESERVE,
    )
    parts: list[Part] = [*blocks, {"type": "divider"}, section("*Timeline*"), timeline]
    if not lines:
        parts.append(context("No events yet."))
    return parts
