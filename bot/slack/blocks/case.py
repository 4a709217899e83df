"""The case message (posted, then updated in place), its thread lines, and the grouped alert-storm message."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.cases.model import CaseDetail, CaseRecord, EventRecord
from bot.cases.opening import RESPONSE_UPDATED
from bot.privacy.erase import ERASED_EVENT
from bot.privacy.scrub import ERASED
from bot.reports.queries import CaseRow
from bot.slack.blocks.describe import (
    breach_text,
    case_what,
    changes_text,
    label,
    mentions,
    missed_sla,
    outcome_label,
    recovery_text,
    repeat_text,
    row_line,
    score_text,
    severity_emoji,
    via,
    window_text,
)
from bot.slack.blocks.fit import Listing, fit_message
from bot.slack.blocks.limits import SECTION_TEXT
from bot.slack.blocks.text import (
    clip,
    fmt_duration,
    fmt_time,
    one_line,
    parse_time,
    plural,
    quote,
    who,
)
from bot.slack.ids import ActionId, BlockId, CaseMeta
from config.teams import Team

Block = dict[str, Any]

VERBATIM_LIMIT = 500  # SPEC §5: the verbatim is truncated to 500 characters
SECTION_LIMIT = SECTION_TEXT  # Slack: a section's text holds at most 3,000 characters
GROUP_MAX_LINES = 100  # beyond this a grouped message stops being readable; the rest are counted
LEADER_LEVELS = {"ack_leaders", "resolve_leaders"}
_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,}")
_STATE_KINDS = {
    "open": ("opened", "reopened"),
    "acknowledged": ("acknowledged",),
    "resolved": ("resolved",),
}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    out: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": str(action_id),
        "value": value,
    }
    if style:
        out["style"] = style
    return out


# -- the case message ------------------------------------------------------------------------------------


def case_message(
    detail: CaseDetail,
    team: Team,
    *,
    now: datetime,
    playbook: list[str] | None = None,
    command: str = "/feedback",
) -> dict[str, Any]:
    """The payload for chat.postMessage / chat.update: fallback text, case blocks and the buttons of its state."""
    blocks = case_blocks(detail, team, now=now, playbook=playbook, command=command)
    # Long free texts (the verbatim, the action, the rationale, the whys) give way to stay within
    # the message's total; the buttons always stay.
    return fit_message(case_fallback(detail, team), [*blocks, case_actions(detail.case)])


def case_fallback(detail: CaseDetail, team: Team) -> str:
    """One escaped line for notifications: FB-12 · high · CSAT 1/5 · Delivery Ops · open: "comment…"."""
    case = detail.case
    what = case_what(case.kind, case.summary or {})
    text = (
        f"{case.ref} · {label(case.severity)} · {what} · {label(team.name)} · {label(case.state)}"
    )
    comment = one_line(detail.comment or "")
    if comment:
        text += f': "{clip(comment, 120)}"'
    return text


def case_blocks(
    detail: CaseDetail,
    team: Team,
    *,
    now: datetime,
    playbook: list[str] | None = None,
    command: str = "/feedback",
) -> list[Block]:
    """Everything the case message shows except its buttons (the `show` answer reuses it); `playbook` is
    the category's lines from the YAML."""
    case = detail.case
    summary = case.summary or {}
    head = f"{severity_emoji(case.severity)} *{case.ref}* · {label(case.severity).capitalize()} severity · {label(team.name)}"
    blocks: list[Block] = []
    notes = _notes(summary, playbook)
    if case.kind == "systemic":
        blocks.append(section(f"{head}\n{_systemic_line(summary)}"))
        facts = [f"Opened {fmt_time(case.opened_at, team.tz)}"]
        if summary.get("owner"):
            facts.append(f"Cause owner: {who(str(summary['owner']))}")
        plan = f"{clip(one_line(command), 40)} plan {team.key} cause={label(summary.get('cause'))}"
        notes.append(f"Plan one: `{plan} due=YYYY-MM-DD @owner what changes`")
    elif case.kind == "threshold":
        blocks.append(section(f"{head}\n*Threshold breach:* {breach_text(summary)}"))
        facts = [f"Opened {fmt_time(case.opened_at, team.tz)}"]
        last = _last(detail.events, ("recovered",))
        recovered = last.at if last is not None else parse_time(summary.get("recovered_at"))
        if recovered is not None:
            facts.append(f":chart_with_upwards_trend: Recovered at {fmt_time(recovered, team.tz)}")
    else:
        blocks.append(section(f"{head}\n*{score_text(summary)}*"))
        blocks.append(section(_verbatim(detail)))
        facts = [
            f"Category: *{label(summary.get('category'))}*",
            f"Segment: *{label(summary.get('segment'))}*",
        ]
        submitted = parse_time(summary.get("submitted_at"))
        if submitted is not None:
            facts.append(f"Submitted {fmt_time(submitted, team.tz)}")
        edited = _last(detail.events, (RESPONSE_UPDATED,))
        if edited is not None:
            facts.append(f":pencil2: Response updated {fmt_time(edited.at, team.tz)}")
    blocks.append(context(" · ".join(facts)))
    blocks.append(context(_sla(detail, team, now)))
    # After the SLA line, so the blocks before it keep their places whatever a case carries.
    blocks.extend(context(note) for note in notes)
    blocks.extend(_status(detail, team))
    return blocks


def _notes(summary: dict[str, Any], playbook: list[str] | None) -> list[str]:
    """The repeat line and the category's playbook, each one context line."""
    notes = []
    repeat = summary.get("repeat")
    if isinstance(repeat, dict):
        line = repeat_text(repeat, summary.get("category"))
        if line:
            notes.append(line)
    steps = [one_line(str(step)) for step in playbook or [] if str(step).strip()]
    if steps:
        # The YAML allows 10 lines; each is cut so the line stays inside a context's 2,000.
        notes.append("Playbook: " + " · ".join(clip(step, 150, 185) for step in steps[:10]))
    return notes


def _systemic_line(summary: dict[str, Any]) -> str:
    """:repeat: Systemic: late_delivery resolved 5 times in 30 days with no corrective action — FB-1, …"""
    count = summary.get("count")
    times = plural(count, "time") if isinstance(count, int) else "several times"
    cases = summary.get("cases") if isinstance(summary.get("cases"), list) else []
    refs = ", ".join(label(ref) for ref in cases[:20])
    if refs and isinstance(count, int) and count > len(cases[:20]):
        refs += ", …"  # the summary keeps the latest cases only
    line = (
        f":repeat: Systemic: {label(summary.get('cause'))} resolved {times} in "
        f"{window_text(summary.get('window'))} with no corrective action"
    )
    return f"{line} — {refs}" if refs else line


def _verbatim(detail: CaseDetail) -> str:
    if detail.comment and detail.comment.strip():
        # ≤ 500 raw characters escape to ≤ 2,500 plus one ">" per line: always inside a section.
        return quote(clip(detail.comment.strip(), VERBATIM_LIMIT, SECTION_LIMIT - VERBATIM_LIMIT))
    if (detail.case.summary or {}).get("customer") == ERASED:
        return f"_Comment {ERASED} at the customer's request._"
    if detail.case.feedback_id is None:
        return "_Comment removed by retention._"
    return "_No comment._"


def _sla(detail: CaseDetail, team: Team, now: datetime) -> str:
    t = detail.timings

    def mark(done: datetime | None, due: datetime, overdue: bool) -> str:
        if done is not None:
            return " :white_check_mark: met" if done <= due else " — missed"
        return " :warning: *overdue*" if overdue else ""

    ack = f"Ack by {fmt_time(t.ack_due, team.tz)}{mark(t.acknowledged_at, t.ack_due, t.ack_overdue(now))}"
    resolve = f"Resolve by {fmt_time(t.resolve_due, team.tz)}{mark(t.resolved_at, t.resolve_due, t.resolve_overdue(now))}"
    levels = {str((e.details or {}).get("level")) for e in detail.events if e.kind == "escalated"}
    escalated = ""
    if levels:
        escalated = " · :rotating_light: escalated" + (
            " to leaders" if levels & LEADER_LEVELS else ""
        )
    return f":stopwatch: {ack} · {resolve}{escalated}"


def _last(events: Sequence[EventRecord], kinds: tuple[str, ...]) -> EventRecord | None:
    return next((e for e in reversed(events) if e.kind in kinds), None)


def _status(detail: CaseDetail, team: Team) -> list[Block]:
    case, t = detail.case, detail.timings
    last = _last(detail.events, _STATE_KINDS.get(case.state, ()))
    at = f" at {fmt_time(last.at, team.tz)}" if last else ""
    by = f" by {who(last.actor)}" if last else ""
    tta = f"TTA {fmt_duration(t.tta)}" if t.tta is not None else None
    extra: list[Block] = []
    if case.state == "resolved":
        ttr = f"TTR {fmt_duration(t.ttr)}" if t.ttr is not None else ""
        details = last.details if last else {}
        text = (
            f"*Status:* :white_check_mark: Resolved{by}{at}"
            + (f" · {ttr}" if ttr else "")
            + (f" ({tta})" if tta else "")
        )
        text += f"\n*Outcome:* {outcome_label(details.get('outcome'))} · *Root cause:* {label(details.get('root_cause'))}{_domain(details)}"
        if details.get("corrective"):
            text += f"\n*Corrective action:* {label(details['corrective'])}"
        for key, name in (("action", "Action taken"), ("rationale", "Rationale")):
            if details.get(key):
                extra.append(
                    section(f"*{name}:* {clip(str(details[key]), 2_500, SECTION_LIMIT - 50)}")
                )
        whys = _whys(details, 300, 550, "*")  # five at most (the core's limit): 5 × ~570 < 3,000
        if whys:
            extra.append(section("\n".join(whys)))
    elif case.state == "acknowledged":
        text = f"*Status:* :eyes: Acknowledged{by}{at}" + (f" ({tta})" if tta else "")
    elif last is not None and last.kind == "reopened":
        reason = clip(str(last.details.get("reason") or ""), 1_000, 2_000)
        text = f"*Status:* :arrows_counterclockwise: Reopened{by}{at}" + (
            f": {reason}" if reason else ""
        )
    else:
        text = f"*Status:* :new: Open since {fmt_time(case.opened_at, team.tz)}"
    if case.assignee and case.state != "resolved":
        text += f"\n*Assigned to* {who(case.assignee)}"
    return [section(text), *extra]


def case_actions(case: CaseRecord) -> Block:
    """The buttons that apply in the case's state; the others disappear (SPEC §5)."""
    value = CaseMeta(case_id=case.id).dump()
    if case.state == "open":
        buttons = [
            button("Acknowledge", ActionId.ACK, value, "primary"),
            button("Resolve…", ActionId.RESOLVE, value),
            button("Assign to me", ActionId.ASSIGN_ME, value),
        ]
    elif case.state == "acknowledged":
        buttons = [
            button("Resolve…", ActionId.RESOLVE, value, "primary"),
            button("Assign to me", ActionId.ASSIGN_ME, value),
        ]
    else:
        buttons = [button("Reopen…", ActionId.REOPEN, value)]
    return {"type": "actions", "block_id": str(BlockId.CASE_ACTIONS), "elements": buttons}


# -- thread lines ----------------------------------------------------------------------------------------


def event_line(event: EventRecord, case: CaseRecord, team: Team) -> str:
    """One mrkdwn line of the case timeline; stays within a section's 3,000 characters."""
    by, at = who(event.actor), fmt_time(event.at, team.tz)
    details = event.details or {}
    since = fmt_duration(event.at - case.opened_at)
    if event.kind == "opened":
        return f":new: Opened by {by} at {at}"
    if event.kind == "acknowledged":
        return f":eyes: Acknowledged by {by} at {at} (TTA {since})"
    if event.kind == "assigned":
        was = f" (was {who(details['previous'])})" if details.get("previous") else ""
        return (
            f":bust_in_silhouette: Assigned to {who(details.get('assignee'))} by {by} at {at}{was}"
        )
    if event.kind == "note":
        return (
            f":memo: Note from {by} at {at}: {clip(str(details.get('text') or ''), 2_500, 2_700)}"
        )
    if event.kind == "resolved":
        return _resolved_line(details, by, at, since)
    if event.kind == "reopened":
        return f":arrows_counterclockwise: Reopened by {by} at {at}: {clip(str(details.get('reason') or ''), 2_500, 2_700)}"
    if event.kind == "escalated":
        return _escalated_line(details, at, team)
    if event.kind == RESPONSE_UPDATED:
        changes = changes_text(details.get("changes"))
        return f":pencil2: Response updated at {at} via {via(event.source)}: {changes}"
    if event.kind == "recovered":
        return f":chart_with_upwards_trend: Recovered at {at}: {recovery_text(case.summary or {}, details)}"
    if event.kind == ERASED_EVENT:
        return f":wastebasket: Customer data {ERASED} on request at {at}"
    # Kinds added later (escalations, recoveries) still get a readable line rather than an error.
    return (
        f":small_blue_diamond: {label(event.kind.replace('_', ' ')).capitalize()} by {by} at {at}"
    )


def _domain(details: dict[str, Any]) -> str:
    return f" ({label(details['domain'])})" if details.get("domain") else ""


def _whys(details: dict[str, Any], limit: int, budget: int, bold: str = "") -> list[str]:
    """Why 1: …, Why 2: …; five at most, as the core keeps."""
    whys = details.get("whys")
    if not isinstance(whys, list):
        return []
    return [
        f"{bold}Why {i}:{bold} {clip(one_line(str(w)), limit, budget)}"
        for i, w in enumerate(whys[:5], 1)
    ]


def _resolved_line(details: dict[str, Any], by: str, at: str, since: str) -> str:
    outcome = outcome_label(details.get("outcome")).lower()
    line = f":white_check_mark: Resolved by {by} at {at} — outcome {outcome}, root cause {label(details.get('root_cause'))}{_domain(details)}"
    whys = _whys(details, 180, 220)
    # With whys the line has more to hold, so the free texts give up room to stay within 3,000.
    action, rationale = ((1_200, 1_300), (800, 900)) if not whys else ((700, 800), (400, 500))
    if details.get("action"):
        line += f": {clip(str(details['action']), *action)}"
    if details.get("rationale"):
        line += f" — rationale: {clip(str(details['rationale']), *rationale)}"
    line += f" (TTR {since})"
    tail = [*whys]
    if details.get("corrective"):
        tail.append(f"Corrective action: {label(details['corrective'])}")
    return "\n".join([line, *tail])


def _escalated_line(details: dict[str, Any], at: str, team: Team) -> str:
    """Supervisors are mentioned at every level: at the leader levels their case is now in front of leaders."""
    where, missing = "", ""
    if details.get("level") in LEADER_LEVELS:
        channel = str(details.get("channel") or "")
        if _CHANNEL.fullmatch(channel):
            where = f" to leaders in <#{channel}>"
        else:
            missing = " (no leaders' channel is configured)"
    line = f":rotating_light: Escalated{where} at {at}: {missed_sla(details, team.tz)}{missing}"
    return f"{line} — {mentions(team.supervisors)}" if team.supervisors else line


# -- alert storms ----------------------------------------------------------------------------------------


def group_message(
    cases: list[CaseRow], team: Team, *, now: datetime, command: str = "/feedback"
) -> dict[str, Any]:
    """One message for a burst of cases (SPEC §5: > 10 in 5 minutes): a line per case, within Slack's limits."""
    name = label(team.name)
    head = f":rotating_light: {plural(len(cases), 'more case')} for {name} in 5 minutes"
    lines = Listing(
        [row_line(row, team.name, now, show_team=False) for row in cases[:GROUP_MAX_LINES]],
        lambda n: f"and {n} more — `{command} list {team.key}`" if n else "",
        total=len(cases),
    )
    button_row = {
        "type": "actions",
        "elements": [button("List open cases", ActionId.LIST_OPEN, team.key, "primary")],
    }
    refs = ", ".join(row.ref for row in cases[:20]) + (", …" if len(cases) > 20 else "")
    text = f"{plural(len(cases), 'more case')} for {name}: {refs}"
    return fit_message(text, [section(f"*{head}*"), lines, button_row])
