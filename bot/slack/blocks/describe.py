"""Short mrkdwn descriptions of a case shared by every surface: severity, what was measured, one list line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from bot.alerts import spc
from bot.reports.queries import CaseRow
from bot.scores import SCALES
from bot.slack.blocks.text import (
    clip,
    fmt_duration,
    fmt_number,
    fmt_time,
    one_line,
    parse_time,
    plural,
    who,
)
from config.durations import parse_duration

METRIC_NAMES = {
    "csat": "CSAT",
    "nps": "NPS",
    "ces": "CES",
    "cases": "Cases",
    "complaints": "Complaints",
}
SEVERITY_EMOJI = {"high": ":red_circle:", "medium": ":large_orange_circle:"}
OUTCOME_LABELS = {
    "fixed": "Fixed",
    "workaround": "Workaround",
    "no_action": "No action",
    "duplicate": "Duplicate",
}
STATE_LABELS = {"open": "open", "acknowledged": "acknowledged", "resolved": "resolved"}
# Names from the YAML or a customer are short in practice; these keep one odd value from crowding a line.
_NAME_LIMIT = 80


def severity_emoji(severity: str) -> str:
    return SEVERITY_EMOJI.get(severity, ":white_circle:")


def metric_name(metric: object) -> str:
    return METRIC_NAMES.get(str(metric), clip(str(metric), _NAME_LIMIT).upper())


def label(value: object) -> str:
    """A configured or customer-given name (category, segment) as escaped, one-line mrkdwn; — when absent."""
    if value is None or str(value).strip() == "":
        return "—"
    return clip(one_line(str(value)), _NAME_LIMIT)


def outcome_label(outcome: object) -> str:
    return OUTCOME_LABELS.get(str(outcome), label(outcome))


def score_text(summary: dict[str, Any]) -> str:
    """CSAT 1/5, NPS 3/10, CES 6/7."""
    metric = summary.get("metric")
    score = summary.get("score")
    scale = SCALES[str(metric)][1] if str(metric) in SCALES else None
    shown = label(score)
    return f"{metric_name(metric)} {shown}/{scale}" if scale else f"{metric_name(metric)} {shown}"


# The order a response update's changes are told in, most telling first.
_CHANGE_ORDER = ("comment", "score", "category", "segment", "customer", "tags", "attributes")
_VIA = {"api": "the API", "import": "a CSV import", "webhook": "a webhook"}


def changes_text(changes: object) -> str:
    """comment added; score 3 → 1; category — → late_delivery: what a response update changed, from its
    event's details (values the core kept: no customer text); seven labels at most, far inside a section."""
    if not isinstance(changes, dict):
        return "changed"
    parts = []
    for name in _CHANGE_ORDER:
        change = changes.get(name)
        if change is None:
            continue
        if isinstance(change, dict):
            # Categories by their key, as the case message and `stats` name them.
            was, now = change.get("from"), change.get("to")
            parts.append(f"{label(name)} {label(was)} → {label(now)}")
        else:
            parts.append(f"{label(name)} {label(change)}")
    return "; ".join(parts) or "changed"


def via(source: object) -> str:
    """Where a change came from: the API, a CSV import, a webhook."""
    return _VIA.get(str(source), label(source))


def _window(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_duration(timedelta(seconds=value))  # a rule window stored in seconds
    return label(value)


def _breach_parts(summary: dict[str, Any]) -> tuple[str, str, str, str, str]:
    metric = metric_name(summary.get("metric"))
    if summary.get("metric") == "complaints" and summary.get("category"):
        metric = f"{metric} ({label(summary['category'])})"
    value, threshold = summary.get("value"), summary.get("threshold")
    shown = fmt_number(value) if isinstance(value, (int, float)) else label(value)
    limit = fmt_number(threshold) if isinstance(threshold, (int, float)) else label(threshold)
    comparison = "above" if summary.get("comparison") == "above" else "below"
    n = summary.get("n")
    count = f" (n={n})" if isinstance(n, int) else ""
    return (
        metric,
        shown,
        comparison,
        limit,
        f"over the last {_window(summary.get('window'))}{count}",
    )


def breach_text(summary: dict[str, Any]) -> str:
    """CSAT 72.4 below 80 over the last 24h (n=31); complaints name their category; SPC rules: spc_text."""
    if "spc" in summary:
        return spc_text(summary)
    metric, shown, comparison, limit, window = _breach_parts(summary)
    return f"{metric} {shown} {comparison} {limit} {window}"


def recovery_text(summary: dict[str, Any], reading: dict[str, Any]) -> str:
    """CSAT 84.2, no longer below 80 over the last 24h (n=40): the rule from the case, the values of `reading`."""
    if "spc" in summary:
        return spc_recovery_text(summary, reading)
    metric, shown, comparison, limit, window = _breach_parts(
        {**summary, **{k: reading[k] for k in ("value", "threshold", "n") if k in reading}}
    )
    return f"{metric} {shown}, no longer {comparison} {limit} {window}"


def spc_text(summary: dict[str, Any]) -> str:
    """CSAT: 8 days in a row below the centre line, special cause — 71.2 % on Tue 3 Mar (n=45; centre
    84 %, 3σ limits 78.1–89.9 %, 8w baseline)."""
    rule, side = summary.get("spc"), summary.get("side")
    if rule in spc.WESTERN_ELECTRIC and side in ("above", "below"):
        signal = spc.words(spc.Signal(rule, side))
    else:
        signal = "a Western Electric rule"
    day = _spc_day(summary, f"{label(summary.get('baseline'))} baseline")
    return f"{_spc_metric(summary)}: {signal}, special cause" + (f" — {day}" if day else "")


def spc_recovery_text(summary: dict[str, Any], reading: dict[str, Any]) -> str:
    """CSAT 83.5 % on Wed 4 Mar (n=40; centre 84 %, 3σ limits 78.1–89.9 %): no longer a special cause
    below the centre line. The rule's metric and side from the case, the day from `reading`."""
    side = "above" if summary.get("side") == "above" else "below"
    day = _spc_day({**reading, "metric": summary.get("metric")}, None)
    what = f"{_spc_metric(summary)} {day}" if day else _spc_metric(summary)
    return f"{what}: no longer a special cause {side} the centre line"


def _spc_metric(summary: dict[str, Any]) -> str:
    metric = metric_name(summary.get("metric"))
    if summary.get("metric") == "complaints" and summary.get("category"):
        metric = f"{metric} ({label(str(summary['category']).replace('_', ' '))})"
    return metric


def _spc_day(values: dict[str, Any], extra: str | None) -> str:
    """71.2 % on Tue 3 Mar (n=45; centre 84 %, 3σ limits 78.1–89.9 %[, extra]); "" without a value."""
    metric = values.get("metric")
    decimals = 2 if metric == "ces" else 1
    unit = {"csat": " %", "complaints": " % of responses"}.get(str(metric), "")
    short = " %" if unit else ""

    def number(key: str) -> str | None:
        v = values.get(key)
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        return fmt_number(v, decimals) if ok else None

    value = number("value")
    if value is None:
        return ""
    text = f"{value}{unit}"
    try:
        day = date.fromisoformat(str(values.get("day")))
        text += f" on {day:%a} {day.day} {day:%b}"
    except ValueError:
        pass
    facts = [f"n={values['n']}"] if isinstance(values.get("n"), int) else []
    if number("centre") is not None:
        facts.append(f"centre {number('centre')}{short}")
    if number("lower") is not None and number("upper") is not None:
        facts.append(f"3σ limits {number('lower')}–{number('upper')}{short}")
    if extra and values.get("baseline"):
        facts.append(extra)
    return f"{text} ({', '.join(facts)})" if facts else text


# level: (what did not happen, how many times the SLA has passed)
ESCALATION_LEVELS = {
    "ack": ("acknowledged", 1),
    "ack_leaders": ("acknowledged", 2),
    "resolve": ("resolved", 1),
    "resolve_leaders": ("resolved", 2),
}


def missed_sla(details: dict[str, Any], tz: tzinfo) -> str:
    """not acknowledged within twice its 15m SLA (due Mon 2 Dec 09:41 EST), from an `escalated` event's details."""
    done, times = ESCALATION_LEVELS.get(str(details.get("level")), ("handled", 1))
    sla = f"its {label(details['sla'])} SLA" if details.get("sla") else "its SLA"
    deadline = parse_time(details.get("deadline"))
    due = f" (due {fmt_time(deadline, tz)})" if deadline is not None else ""
    return f"not {done} within {'twice ' if times == 2 else ''}{sla}{due}"


def mentions(users: Sequence[str]) -> str:
    """<@U1> <@U2> for configured user ids; anything else shown escaped, never as a mention."""
    return " ".join(who(user) for user in users)


def case_what(kind: str, summary: dict[str, Any]) -> str:
    """What the case is about in a few words: the score, the breach, or the recurring cause."""
    if kind == "systemic":
        count = summary.get("count")
        times = plural(count, "resolution") if isinstance(count, int) else "resolutions"
        return f"Systemic cause {label(summary.get('cause'))}: {times} in {window_text(summary.get('window'))}"
    return breach_text(summary) if kind == "threshold" else score_text(summary)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 111th."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def window_text(value: object) -> str:
    """A stored window (30d, 4w, 720h) in days when it is whole days: "30 days"; otherwise 1d 12h."""
    try:
        td = parse_duration(str(value))
    except ValueError:
        return label(value)
    if td % timedelta(days=1):
        return fmt_duration(td)
    return plural(td // timedelta(days=1), "day")


def repeat_text(repeat: dict[str, Any], category: object) -> str | None:
    """Repeat: 3rd case for this customer in 30 days (FB-10, FB-14) · 7th late delivery case for the team
    in 30 days; None when the summary's `repeat` says nothing showable."""
    window = window_text(repeat.get("window"))
    parts = []
    count, earlier = repeat.get("customer_count"), repeat.get("customer")
    if isinstance(count, int) and count > 1:
        refs = [label(ref) for ref in earlier[:20]] if isinstance(earlier, list) else []
        listed = f" ({', '.join(refs)})" if refs else ""
        parts.append(f"{ordinal(count)} case for this customer in {window}{listed}")
    count = repeat.get("category_count")
    if isinstance(count, int) and count > 0:
        # Category keys are snake_case in the YAML; people read "late delivery".
        name = label(str(category).replace("_", " ")) if category else "same-category"
        parts.append(f"{ordinal(count)} {name} case for the team in {window}")
    return "Repeat: " + " · ".join(parts) if parts else None


def row_line(row: CaseRow, team_name: str | None, now: datetime, *, show_team: bool = True) -> str:
    """• FB-12 :red_circle: CSAT 1/5 · late delivery · Delivery Ops · open 2h 5m · <@U…> · overdue"""
    parts = [f"*{row.ref}* {severity_emoji(row.severity)} {case_what(row.kind, row.summary)}"]
    if row.kind != "threshold" and row.summary.get("category"):
        parts.append(label(row.summary["category"]))
    if show_team:
        parts.append(label(team_name or row.team))
    parts.append(
        f"{STATE_LABELS.get(row.state, label(row.state))} {fmt_duration(now - row.opened_at)}"
    )
    if row.assignee:
        parts.append(who(row.assignee))
    if row.overdue(now):
        parts.append(":warning: *overdue*")
    return "• " + " · ".join(parts)
