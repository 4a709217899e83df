"""The corrective action's message (updated in place), its `action`/`actions` answers, overdue posts and App Home section."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cases.action_model import ActionDetail, ActionRecord
from bot.slack.blocks.action_lines import (
    action_event_line,
    action_line,
    due_text,
    overdue_for,
    result_head,
    state_emoji,
    state_label,
    verification_lines,
)
from bot.slack.blocks.case import SECTION_LIMIT, button, context, section
from bot.slack.blocks.describe import label, mentions
from bot.slack.blocks.fit import Listing, fit_message
from bot.slack.blocks.lists import with_timeline
from bot.slack.blocks.text import clip, escape, fmt_time, one_line, pack_lines, plural, who
from bot.slack.ids import ActionId, ActionMeta, BlockId
from config.teams import Team

Block = dict[str, Any]

TEXT_LIMIT = 2_500  # raw characters of the action's text shown in its message
MAX_CASES = 20  # case refs listed on the message; the rest are counted
LIST_TEXT = 80  # the text's share of one list line
HOME_MAX = 10  # App Home lines (one block each, with a button)
REOPENABLE = ("not_verified", "inconclusive")
TITLE_LIMIT = 200


def _command(command: str) -> str:
    # The command is configurable (LOOPBOT_COMMAND): only its name is shown, escaped.
    return clip(one_line(command), 40)


# -- the action message ----------------------------------------------------------------------------------


def action_message(detail: ActionDetail, team: Team, *, now: datetime) -> dict[str, Any]:
    """The payload for chat.postMessage / chat.update: fallback, blocks, and Reopen when it did not work."""
    blocks = action_blocks(detail, team, now=now)
    action = detail.action
    if action.state in REOPENABLE:
        value = ActionMeta(action_id=action.id).dump()
        blocks.append(
            {
                "type": "actions",
                "block_id": str(BlockId.ACTION_BUTTONS),
                "elements": [button("Reopen action", ActionId.ACTION_REOPEN, value, "danger")],
            }
        )
    return fit_message(action_fallback(action, team), blocks)


def action_fallback(action: ActionRecord, team: Team) -> str:
    """CA-4 · planned · Delivery Ops: "Call the courier before 10:00" (one escaped line)."""
    text = f"{action.ref} · {state_label(action.state)} · {label(team.name)}"
    body = one_line(action.text)
    return text + (f': "{clip(body, 120)}"' if body else "")


def action_blocks(detail: ActionDetail, team: Team, *, now: datetime) -> list[Block]:
    """Everything the action message shows except its button (the `action` answer reuses it)."""
    action, tz = detail.action, team.tz
    again = f" (round {action.round})" if action.round > 1 else ""
    head = (
        f"{state_emoji(action.state)} *{action.ref}* · Corrective action · {label(team.name)}\n"
        f"*Cause:* {label(action.cause)} · *Domain:* {label(action.domain)} · "
        f"*State:* {state_label(action.state)}{again}"
    )
    text = action.text.strip()
    # ≤ 2,500 raw characters, at most 3,000 once escaped: staff text may hold < and &.
    blocks = [section(head), section(clip(text, TEXT_LIMIT, SECTION_LIMIT) or "_No text._")]
    facts = [f"Owner: {who(action.owner)}", "D" + due_text(action, tz, now)[1:]]
    if action.live_at is not None:
        facts.append(f"Live since {fmt_time(action.live_at, tz)}")
    if action.verified_at is not None:
        facts.append(f"Checked {fmt_time(action.verified_at, tz)}")
    levels = {e.details.get("level") for e in detail.events if e.kind == "escalated"}
    if levels:
        facts.append(":rotating_light: escalated" + (" to leaders" if "leaders" in levels else ""))
    blocks.append(context(" · ".join(facts)))
    blocks.append(context(_cases_text(detail)))
    blocks.extend(_state_blocks(detail, team))
    return blocks


def _cases_text(detail: ActionDetail) -> str:
    if not detail.cases:
        return "Planned without a case"
    refs = ", ".join(case.ref for case in detail.cases[:MAX_CASES])
    more = len(detail.cases) - MAX_CASES
    return f"From {refs}" + (f" and {more} more" if more > 0 else "")


def _state_blocks(detail: ActionDetail, team: Team) -> list[Block]:
    action = detail.action
    if action.state == "dropped":
        last = next((e for e in reversed(detail.events) if e.kind == "dropped"), None)
        if last is None:
            return []
        reason = clip(one_line(str(last.details.get("reason") or "")), 2_000, 2_700)
        return [
            section(
                f"{state_emoji('dropped')} *Dropped* by {who(last.actor)} at "
                f"{fmt_time(last.at, team.tz)}" + (f": {reason}" if reason else "")
            )
        ]
    if action.state in (*REOPENABLE, "verified") and action.verification:
        lines = [result_head(action.state), *verification_lines(action.verification)]
        # A handful of short lines in practice; packed so an odd record still fits its sections.
        return [section("\n".join(group)) for group in pack_lines(lines, SECTION_LIMIT)[:3]]
    return []


# -- answers: `action CA-n` and `actions` ----------------------------------------------------------------


def action_detail(detail: ActionDetail, team: Team, *, now: datetime) -> dict[str, Any]:
    """The action without its button, then its timeline."""
    lines = [action_event_line(event, detail.action, team) for event in detail.events]
    return fit_message(
        action_fallback(detail.action, team),
        with_timeline(action_blocks(detail, team, now=now), lines),
    )


def action_list(
    actions: list[ActionRecord],
    *,
    title: str,
    teams: dict[str, Team],
    now: datetime,
    empty: str = "No corrective actions to show.",
    command: str = "/feedback",
) -> dict[str, Any]:
    """A line per action; the team is named only when the list spans several teams."""
    heading = f"*{clip(one_line(title), TITLE_LIMIT)}*"
    if not actions:
        return fit_message(escape(one_line(empty)), [section(f"{heading}\n{escape(empty)}")])
    several = len({a.team for a in actions}) > 1
    lines = [
        action_line(a, teams.get(a.team), now, show_team=several, show_owner=True) for a in actions
    ]

    def more(n: int) -> str:
        if not n:
            return ""
        return (
            f"{n} more, not shown ({len(actions) - n} of {len(actions)}). Narrow the list "
            f"with `{_command(command)} actions TEAM overdue`, or open one with "
            f"`{_command(command)} action CA-n`."
        )

    text = f"{clip(one_line(title), TITLE_LIMIT)}: {plural(len(actions), 'corrective action')}"
    return fit_message(text, [section(heading), Listing(lines, more)])


# -- overdue escalations ---------------------------------------------------------------------------------


def overdue_message(
    action: ActionRecord, team: Team, *, level: str, now: datetime, command: str = "/feedback"
) -> dict[str, Any]:
    """`owner`: the DM to the owner and the thread reply (owner and supervisors mentioned); `leaders`: the
    leaders' channel post."""
    cmd, tz = _command(command), team.tz
    due = fmt_time(action.due_at, tz)
    late = overdue_for(action, now)
    what = f"*Cause:* {label(action.cause)} · {clip(one_line(action.text), 300, 1_000)}"
    if level == "owner":
        people = mentions([action.owner, *(s for s in team.supervisors if s != action.owner)])
        ask = (
            f":alarm_clock: {people}: {action.ref} was due {due}: mark it done with "
            f"`{cmd} done {action.ref} …` or plan a new date."
        )
        blocks = [section(ask), context(f"{label(team.name)} · overdue {late} · {what}")]
        text = f"{action.ref} was due {due}: mark it done or plan a new date"
    elif level == "leaders":
        head = (
            f":rotating_light: *Overdue corrective action:* *{action.ref}* · {label(team.name)} · "
            f"overdue {late}"
        )
        blocks = [
            section(f"{head}\n{what}"),
            context(
                f"Owner: {who(action.owner)} · due {due} · planned "
                f"{fmt_time(action.planned_at, tz)}"
            ),
            context(f"`{cmd} action {action.ref}` for its timeline"),
        ]
        text = (
            f"Overdue corrective action {action.ref} ({label(team.name)}), {late} past its due date"
        )
    else:
        raise ValueError(f"unknown escalation level {level!r} for {action.ref}")
    return fit_message(text, blocks)


# -- App Home --------------------------------------------------------------------------------------------


def my_actions_blocks(
    actions: list[ActionRecord],
    teams: dict[str, Team],
    *,
    now: datetime,
    command: str = "/feedback",
) -> list[Block]:
    """The App Home section "Your corrective actions": a header, a line each with a Show button."""
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "Your corrective actions", "emoji": True},
        }
    ]
    several = len({a.team for a in actions}) > 1
    for action in actions[:HOME_MAX]:
        line = action_line(action, teams.get(action.team), now, show_team=several, show_owner=False)
        value = ActionMeta(action_id=action.id).dump()
        blocks.append(section(line, accessory=button("Show", ActionId.ACTION_SHOW, value)))
    if len(actions) > HOME_MAX:
        # There is no `mine` filter for actions: the full list is the way to the rest.
        blocks.append(
            context(f"and {len(actions) - HOME_MAX} more — `{_command(command)} actions all`")
        )
    if not actions:
        blocks.append(
            section(
                "No corrective actions are yours. When you own one, it shows here with its due date."
            )
        )
    return blocks
