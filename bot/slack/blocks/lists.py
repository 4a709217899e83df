"""Ephemeral answers listing cases (`list`) and showing one case with its timeline (`show`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cases.model import CaseDetail
from bot.reports.queries import CaseList
from bot.slack.blocks.case import (
    MAX_MESSAGE_BLOCKS,
    SECTION_LIMIT,
    Block,
    case_blocks,
    case_fallback,
    context,
    event_line,
    section,
)
from bot.slack.blocks.describe import row_line
from bot.slack.blocks.text import clip, escape, one_line, pack_lines, plural
from config.teams import Team

TITLE_LIMIT = 200


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
        return {"text": escape(one_line(empty)), "blocks": [section(f"{heading}\n{escape(empty)}")]}
    lines = [
        row_line(row, teams[row.team].name if row.team in teams else None, now)
        for row in result.rows
    ]
    # Heading and the "more" note take two of the 50 blocks.
    groups = pack_lines(lines, SECTION_LIMIT)[: MAX_MESSAGE_BLOCKS - 2]
    shown = sum(len(group) for group in groups)
    blocks = [section(heading), *(section("\n".join(group)) for group in groups)]
    total = max(result.total, len(result.rows))
    if total > shown:
        blocks.append(
            context(
                f"{total - shown} more, not shown ({shown} of {total}). Narrow the list with "
                f"`{command} list TEAM overdue`, or open one case with `{command} show FB-n`."
            )
        )
    text = f"{clip(one_line(title), TITLE_LIMIT)}: {plural(total, 'case')}"
    return {"text": text, "blocks": blocks}


def case_detail(detail: CaseDetail, team: Team, *, now: datetime) -> dict[str, Any]:
    """The case message without buttons, then its timeline."""
    lines = [event_line(event, detail.case, team) for event in detail.events]
    return {
        "text": case_fallback(detail, team),
        "blocks": with_timeline(case_blocks(detail, team, now=now), lines),
    }


def with_timeline(blocks: list[Block], lines: list[str]) -> list[Block]:
    """`blocks`, then a "Timeline" of `lines`; the oldest lines give way to stay within 50 blocks
    (for a case's `show` and an action's `action CA-n`)."""
    # The divider, the "Timeline" heading and the "left out" note take three blocks.
    room = MAX_MESSAGE_BLOCKS - len(blocks) - 3
    # Packed from the newest backwards, so what has to go is the start of the timeline.
    groups = [
        list(reversed(group)) for group in pack_lines(list(reversed(lines)), SECTION_LIMIT)[:room]
    ]
    groups.reverse()
    kept = sum(len(group) for group in groups)
    blocks = [*blocks, {"type": "divider"}, section("*Timeline*")]
    if kept < len(lines):
        blocks.append(context(f"{plural(len(lines) - kept, 'earlier event')} not shown."))
    blocks.extend(section("\n".join(group)) for group in groups)
    if not lines:
        blocks.append(context("No events yet."))
    return blocks
