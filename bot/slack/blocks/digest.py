"""The huddle digest message: a team's numbers since the last huddle, its backlog, and a few verbatims."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.reports.digest import Digest, MetricDigest, Verbatim
from bot.slack.blocks.case import SECTION_LIMIT, button, context, section
from bot.slack.blocks.describe import breach_text, label, metric_name, score_text
from bot.slack.blocks.fit import Listing, Part, fit_message
from bot.slack.blocks.silence import digest_silence_lines
from bot.slack.blocks.text import clip, fmt_duration, fmt_number, fmt_time, plural, quote
from bot.slack.ids import ActionId
from config.teams import Team

Block = dict[str, Any]

# A digest is read aloud at a huddle: shorter than the case message's 500 characters.
VERBATIM_LIMIT = 300
# Room for the score line and one ">" per quoted line beside the escaped comment, inside one section.
_VERBATIM_BUDGET = SECTION_LIMIT - VERBATIM_LIMIT - 200
_DECIMALS = {"csat": 1, "nps": 0, "ces": 1}


def digest_message(d: Digest, team: Team, *, now: datetime) -> dict[str, Any]:
    """chat.postMessage payload; a quiet period (no feedback) gives a short one that still shows the backlog.

    `now` is the render time, like every renderer's; the digest's own ages were counted when it was composed.
    """
    tz = team.tz
    blocks: list[Part] = [
        # A section rather than a header: a header's plain text cannot carry an escaped name.
        section(f":sunrise: *Huddle digest · {label(team.name)}*"),
        context(
            f"{fmt_time(d.since, tz)} → {fmt_time(d.until, tz)} · {plural(d.responses, 'response')}"
        ),
    ]
    if d.quiet:
        blocks.append(section(":zzz: *Quiet period* — no feedback since the last huddle."))
    else:
        blocks.append(section("\n".join(metric_line(m) for m in d.metrics)))
    blocks.append(section(cases_text(d)))
    if d.signals:
        lines = [
            f":chart_with_downwards_trend: *{x.ref}* {breach_text(x.summary)}" for x in d.signals
        ]
        blocks.append(Listing(lines, title="*Active signals*", inline=True))
    if d.silences:
        blocks.append(
            Listing(digest_silence_lines(d.silences, team), title="*Silenced*", inline=True)
        )
    if not d.quiet:
        if d.top_categories:
            top = " · ".join(f"{label(category)} ({count})" for category, count in d.top_categories)
            blocks.append(section(f"*Top complaints:* {top}"))
        if d.lowest:
            blocks.append(section("*Lowest scores*"))
            blocks.append(Listing([section(verbatim_text(v, team)) for v in d.lowest]))
        if d.praise is not None:
            blocks.append(section(f":star: *Praise*\n{verbatim_text(d.praise, team)}"))
    blocks.append(
        {"type": "actions", "elements": [button("List open cases", ActionId.LIST_OPEN, team.key)]}
    )
    return fit_message(fallback(d, team), blocks)


def fallback(d: Digest, team: Team) -> str:
    """The notification line: responses and metrics, then the backlog."""
    backlog = f"{plural(d.open, 'open case')} ({d.overdue} overdue)"
    if d.quiet:
        return f"Huddle digest for {label(team.name)}: quiet period, no feedback · {backlog}"
    shown = [
        f"{metric_name(m.metric)} {value_text(m.metric, m.value)}"
        for m in d.metrics
        if m.value is not None
    ]
    return f"Huddle digest for {label(team.name)}: {plural(d.responses, 'response')} · {' · '.join(shown)} · {backlog}"


def value_text(metric: str, value: float) -> str:
    """CSAT 82.5 %, NPS 31, CES 3.2."""
    shown = fmt_number(value, _DECIMALS[metric])
    return f"{shown} %" if metric == "csat" else shown


def change_text(m: MetricDigest) -> str:
    """▲ 5.2 / ▼ 3 / = against the previous period, with the previous value."""
    if m.previous is None:
        return "no responses the period before"
    assert m.change is not None  # both values are known here
    delta = fmt_number(abs(m.change), _DECIMALS[m.metric])
    arrow = "=" if delta == "0" else ("▲ " if m.change > 0 else "▼ ") + delta
    return f"{arrow} vs {value_text(m.metric, m.previous)}"


def metric_line(m: MetricDigest) -> str:
    """*CSAT* 75 % (n=4) · ▲ 25 vs 50 % · alert below 80 over 1d :warning:"""
    name = f"*{metric_name(m.metric)}*"
    limits = " · ".join(
        f"alert {t.comparison} {fmt_number(t.value)} over {fmt_duration(t.window)}"
        for t in m.thresholds
    )
    if m.value is None:
        before = (
            f" (before: {value_text(m.metric, m.previous)}, n={m.previous_n})"
            if m.previous is not None
            else ""
        )
        line = f"{name} no responses{before}"
    else:
        line = f"{name} {value_text(m.metric, m.value)} (n={m.n}) · {change_text(m)}"
    if limits:
        line += f" · {limits}"
    if m.value is not None and any(t.breached_by(m.value) for t in m.thresholds):
        line += " :warning:"
    return line


def cases_text(d: Digest) -> str:
    """The backlog as it stood when the digest was composed, and the period's resolutions."""
    if d.open:
        oldest = (
            f" · oldest {fmt_duration(d.oldest_open_age)}" if d.oldest_open_age is not None else ""
        )
        overdue = f":warning: *{d.overdue} overdue*" if d.overdue else "0 overdue"
        backlog = f"*Cases:* {d.open} open · {d.unacknowledged} unacknowledged · {overdue}{oldest}"
    else:
        backlog = "*Cases:* none open :tada:"
    if d.resolved:
        ttr = f" · median TTR {fmt_duration(d.median_ttr)}" if d.median_ttr is not None else ""
        resolved = f"*Resolved:* {d.resolved}{ttr}"
    else:
        resolved = "*Resolved:* none since the last huddle"
    return f"{backlog}\n{resolved}"


def verbatim_text(v: Verbatim, team: Team) -> str:
    """CSAT 1/5 · Mon 2 Mar 10:12 EST, then the escaped, truncated comment as a quote."""
    comment = quote(clip(v.comment.strip(), VERBATIM_LIMIT, _VERBATIM_BUDGET))
    return f"*{score_text({'metric': v.metric, 'score': v.score})}* · {fmt_time(v.submitted_at, team.tz)}\n{comment}"
