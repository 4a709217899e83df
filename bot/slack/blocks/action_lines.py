"""Lines about corrective actions shared by every surface: state, due date, verification checks, thread lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from bot.cases.action_model import ActionEventRecord, ActionRecord
from bot.slack.blocks.describe import label, mentions
from bot.slack.blocks.text import (
    clip,
    escape,
    fmt_duration,
    fmt_time,
    one_line,
    parse_time,
    who,
)
from config.teams import Team

STATE_EMOJI = {
    "planned": ":spiral_note_pad:",
    "done": ":rocket:",
    "verified": ":white_check_mark:",
    "not_verified": ":x:",
    "inconclusive": ":grey_question:",
    "dropped": ":no_entry_sign:",
}
STATE_LABELS = {
    "planned": "planned",
    "done": "done, verifying",
    "verified": "verified",
    "not_verified": "not verified",
    "inconclusive": "inconclusive",
    "dropped": "dropped",
}
RESULT_LABELS = {"verified": "verified", "not_verified": "not verified"}
MAX_CHECKS = 10  # the core writes one or two; more would be a bug, still shown within limits
TEXT_LIMIT = 2_500  # raw characters of a free text in a thread line
TEXT_BUDGET = 2_700  # escaped, leaving room for the line's own words inside a section's 3,000


def _short(value: object, limit: int = 60) -> str:
    """A stored value shown in a few words: ten check lines must share one section's 3,000 characters."""
    if value is None or str(value).strip() == "":
        return "—"
    return clip(one_line(str(value)), limit, 2 * limit)


def state_emoji(state: str) -> str:
    return STATE_EMOJI.get(state, ":white_circle:")


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, label(state.replace("_", " ")))


def due_text(action: ActionRecord, tz: tzinfo, now: datetime) -> str:
    """due Tue 10 Dec 00:00 EST, marked when a planned action is past it."""
    text = f"due {fmt_time(action.due_at, tz)}"
    return text + " :warning: *overdue*" if action.overdue(now) else text


def _number(value: object, kind: str) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "—"
    if kind == "rate":  # stored as a share (0..1)
        return f"{value * 100:.1f} %"
    if kind == "nps":
        return f"{value:.0f}"
    return f"{value:.2f}"


def _p(value: object) -> str | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def check_line(check: dict[str, Any], min_n: object) -> str:
    """late_delivery complaints 8.1 % → 3.2 % of responses (n 412 → 398), p = 0.002: verified"""
    measure = _short(check.get("measure"))
    kind = str(check.get("kind"))
    # A complaint rate is a share of all responses; CSAT is a share of its own respondents.
    share = " of responses" if kind == "rate" and measure != "CSAT" else ""
    before, after = _number(check.get("before"), kind), _number(check.get("after"), kind)
    n = f"(n {_short(check.get('n_before'), 12)} → {_short(check.get('n_after'), 12)})"
    line = f"{measure} {before} → {after}{share} {n}"
    result = check.get("result")
    if result == "inconclusive":
        return f"{line}: inconclusive (fewer than {_short(min_n, 12)} responses)"
    p = _p(check.get("p"))
    return f"{line}{', ' + p if p else ''}: {RESULT_LABELS.get(str(result), _short(result, 20))}"


def _window(bounds: object) -> str:
    """2024-11-18 to 2024-12-01: the stored end is exclusive, people read the last day."""
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        return "—"
    try:
        start, end = date.fromisoformat(str(bounds[0])), date.fromisoformat(str(bounds[1]))
    except ValueError:
        return f"{_short(bounds[0], 20)} to {_short(bounds[1], 20)}"
    return f"{start.isoformat()} to {(end - timedelta(days=1)).isoformat()}"


def verification_lines(verification: dict[str, Any]) -> list[str]:
    """The windows compared, then one line per check."""
    checks = verification.get("checks")
    checks = [c for c in checks if isinstance(c, dict)] if isinstance(checks, list) else []
    min_n = verification.get("min_n")
    lines = [
        f"Before {_window(verification.get('before'))} · after {_window(verification.get('after'))}"
    ]
    lines += [check_line(c, min_n) for c in checks[:MAX_CHECKS]]
    if len(checks) > MAX_CHECKS:
        lines.append(f"and {len(checks) - MAX_CHECKS} more checks")
    return lines


def result_head(result: object) -> str:
    """:x: *Not verified*"""
    state = _short(result, 20)
    return f"{state_emoji(state)} *{state_label(state).capitalize()}*"


def _time(value: object, tz: tzinfo) -> str:
    when = parse_time(value)
    # A stored time is ISO text; anything else is shown short, so the line keeps its room for the text.
    return fmt_time(when, tz) if when is not None else _short(value, 40)


def action_event_line(event: ActionEventRecord, action: ActionRecord, team: Team) -> str:
    """One mrkdwn line (or a few, for a verification) of the action's thread; within a section's 3,000."""
    by, at, tz = who(event.actor), fmt_time(event.at, team.tz), team.tz
    d = event.details or {}
    if event.kind == "planned":
        line = f"{state_emoji('planned')} Planned by {by} at {at}: owner {who(d.get('owner') or action.owner)}, due {_time(d.get('due'), tz)}"
        return line + (f", from {label(d['case'])}" if d.get("case") else "")
    if event.kind == "attached":
        return f":link: {label(d.get('case'))} attached by {by} at {at}"
    if event.kind == "done":
        line = f"{state_emoji('done')} Done by {by} at {at}, live since {_time(d.get('live'), tz)}"
        text = one_line(str(d.get("text") or ""))
        return line + (f": {clip(text, TEXT_LIMIT, TEXT_BUDGET)}" if text else "")
    if event.kind == "dropped":
        reason = clip(one_line(str(d.get("reason") or "")), TEXT_LIMIT, TEXT_BUDGET)
        return f"{state_emoji('dropped')} Dropped by {by} at {at}" + (
            f": {reason}" if reason else ""
        )
    if event.kind == "reopened":
        return f":arrows_counterclockwise: Reopened by {by} at {at}, due {_time(d.get('due'), tz)}"
    if event.kind == "escalated":
        due = _time(d.get("due"), tz)
        if d.get("level") == "leaders":
            return f":rotating_light: Escalated to leaders at {at}: not done by {due}"
        people = mentions([action.owner, *(s for s in team.supervisors if s != action.owner)])
        return f":rotating_light: Overdue at {at}: not done by {due} — {people}"
    if event.kind == "verification":
        head = f"{result_head(d.get('result'))} — verification by {by} at {at}"
        return "\n".join([head, *verification_lines(d)])
    # Kinds added later still get a readable line rather than an error.
    return (
        f":small_blue_diamond: {label(event.kind.replace('_', ' ')).capitalize()} by {by} at {at}"
    )


def action_line(
    action: ActionRecord, team: Team | None, now: datetime, *, show_team: bool, show_owner: bool
) -> str:
    """• *CA-4* :spiral_note_pad: planned · Delivery Ops · late_delivery · Text… · <@U…> · due …"""
    tz = team.tz if team is not None else UTC
    parts = [f"*{action.ref}* {state_emoji(action.state)} {state_label(action.state)}"]
    if show_team:
        parts.append(label(team.name if team is not None else action.team))
    parts += [label(action.cause), clip(one_line(action.text), 80)]
    if show_owner:
        parts.append(who(action.owner))
    if action.state == "planned":
        parts.append(due_text(action, tz, now))
    elif action.state == "done" and action.live_at is not None:
        parts.append(f"live since {fmt_time(action.live_at, tz)}")
    elif action.verified_at is not None and action.state != "dropped":
        parts.append(f"checked {fmt_time(action.verified_at, tz)}")
    return "• " + " · ".join(parts)


def overdue_for(action: ActionRecord, now: datetime) -> str:
    """How long a planned action is past its due date: 3d 4h (escaped: below a minute it is "<1m")."""
    return escape(fmt_duration(max(now - action.due_at, timedelta(0))))
