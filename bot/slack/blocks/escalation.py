"""The leaders' channel post of a case escalated past twice its SLA: the case, its age, the SLA missed, the leaders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.cases.model import CaseRecord
from bot.slack.blocks.case import context, section
from bot.slack.blocks.describe import case_what, label, mentions, missed_sla, severity_emoji
from bot.slack.blocks.fit import fit_message
from bot.slack.blocks.text import clip, fmt_duration, fmt_time, one_line
from config.teams import Team


def leaders_message(
    case: CaseRecord,
    team: Team,
    details: dict[str, Any],
    *,
    leaders: Sequence[str],
    now: datetime,
    command: str = "/feedback",
) -> dict[str, Any]:
    """chat.postMessage payload; `details` are the `escalated` event's (level, sla, deadline)."""
    summary = case.summary or {}
    what = case_what(case.kind, summary)
    if case.kind != "threshold" and summary.get("category"):
        what += f" · {label(summary['category'])}"
    missed = missed_sla(details, team.tz)
    age = fmt_duration(now - case.opened_at)
    blocks = [
        section(
            f":rotating_light: *Escalation:* {severity_emoji(case.severity)} *{case.ref}* · {label(team.name)}\n*{what}*"
        ),
        context(
            f"{missed[0].upper()}{missed[1:]} · open {age} (since {fmt_time(case.opened_at, team.tz)}) · "
            f"status: {label(case.state)}"
            + (f" · assigned to {mentions([case.assignee])}" if case.assignee else "")
        ),
    ]
    if leaders:
        blocks.append(section(f"{mentions(leaders)}: please follow up with {label(team.name)}."))
    # The command is configurable (LOOPBOT_COMMAND): only its name is shown, escaped.
    blocks.append(context(f"`{clip(one_line(command), 40)} show {case.ref}` for its timeline"))
    text = f"Escalation: {case.ref} ({label(team.name)}) {missed} — {what}"
    return fit_message(text, blocks)
