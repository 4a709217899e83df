"""Silences in Slack: the channel posts when one starts and ends, the `silences` answer, and the lines the digest
and App Home show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alerts.silence_model import BreachRecord, SilenceDetail, SilenceRecord, parse_pattern
from bot.slack.blocks.case import context, section
from bot.slack.blocks.describe import label, metric_name
from bot.slack.blocks.fit import Listing, fit, fit_message
from bot.slack.blocks.limits import MAX_VIEW_BLOCKS
from bot.slack.blocks.text import (
    clip,
    escape,
    fmt_duration,
    fmt_number,
    fmt_time,
    one_line,
    plural,
    who,
)
from config.teams import Team

Block = dict[str, Any]

REASON_POST = (
    500  # raw characters of the reason in the channel posts (all of it: the core keeps it short)
)
REASON_LINE = 120  # ... and in one line of a list, the digest or App Home
RULES_SHOWN = 10  # rule labels named on a post; the rest are counted
BREACHES_SHOWN = 10
HOME_MAX = 10


def _command(command: str) -> str:
    # The command is configurable (LOOPBOT_COMMAND): only its name is shown, escaped.
    return clip(one_line(command), 40)


def silenced_what(pattern: str) -> str:
    """What a RULE silences, in words: All alerts, CSAT alerts, Complaints (late_delivery) alerts, CSAT SPC
    signals, SPC signals."""
    parsed = parse_pattern(pattern)
    if parsed is None:  # cannot happen for a stored silence; shown as typed
        return f"`{clip(one_line(pattern), 60)}` alerts"
    what = metric_name(parsed.metric) if parsed.metric else ("" if parsed.spc else "All")
    if parsed.category:
        what += f" ({label(parsed.category)})"
    if parsed.spc:
        return f"{what} SPC signals".strip()
    return f"{what} alerts"


def _tz(team: Team | None) -> Any:
    return team.tz if team is not None else UTC


def _rules(silence: SilenceRecord) -> str:
    shown = [label(r) for r in silence.rules[:RULES_SHOWN]]
    more = len(silence.rules) - len(shown)
    text = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return f"Rules: {text}" if shown else "No rule of the team matches it now"


def _reason(silence: SilenceRecord, limit: int) -> str:
    # Escaping can grow a text fivefold (& → &amp;); the budget keeps a post's section under 3,000.
    return clip(one_line(silence.reason), limit, 2_000)


# -- the channel posts -----------------------------------------------------------------------------------


def start_message(
    silence: SilenceRecord, team: Team, *, command: str = "/feedback"
) -> dict[str, Any]:
    """🔕 S-3: CSAT alerts of Delivery Ops silenced until Sat 6 Dec 18:00 EST by @x — reason."""
    what, until = silenced_what(silence.pattern), fmt_time(silence.ends_at, team.tz)
    reason = _reason(silence, REASON_POST)
    head = (
        f":no_bell: *{silence.ref}*: *{what}* of {label(team.name)} silenced until {until} "
        f"by {who(silence.created_by)} — {reason}"
    )
    note = (
        f"{_rules(silence)} · for {fmt_duration(silence.ends_at - silence.starts_at)}. Breaches are "
        "still recorded but open no case; cases already open still escalate. "
        f"`{_command(command)} unsilence {silence.ref}` ends it early."
    )
    text = (
        f"{silence.ref}: {what} of {label(team.name)} silenced until {until} by "
        f"{who(silence.created_by)} — {_reason(silence, REASON_LINE)}"
    )
    return fit_message(text, [section(head), context(note)])


def end_message(detail: SilenceDetail, team: Team) -> dict[str, Any]:
    """🔔 S-3: the silence of CSAT alerts of Delivery Ops ended (early by @y), with what it kept quiet."""
    silence, tz = detail.silence, team.tz
    what = silenced_what(silence.pattern)
    how = "ended" if silence.expired else f"ended early by {who(silence.ended_by)}"
    head = f":bell: *{silence.ref}*: the silence of *{what}* of {label(team.name)} {how}"
    ended = silence.ended_at or silence.ends_at
    ran = (
        f"Silenced {fmt_time(silence.starts_at, tz)} – {fmt_time(ended, tz)} "
        f"({fmt_duration(ended - silence.starts_at)}) by {who(silence.created_by)} — "
        f"{_reason(silence, REASON_POST)}"
    )
    blocks: list[Block | Listing] = [section(head), context(ran)]
    if detail.breaches:
        blocks.append(
            Listing(
                [_breach_line(b, tz) for b in detail.breaches],
                lambda n: f"and {n} more" if n else "",
                title=f"*{_breaches(len(detail.breaches))} recorded while silenced:*",
                inline=True,
                max_items=BREACHES_SHOWN,
            )
        )
        still = list(dict.fromkeys(label(b.rule) for b in detail.breaches if _still(b)))
        if still:
            blocks.append(
                context(
                    f"Still breached when the silence ended: {', '.join(still)}. A case opens at the "
                    "next evaluation (within a minute) if the breach lasts."
                )
            )
    else:
        blocks.append(context("No breach was recorded while silenced."))
    text = f"{silence.ref}: the silence of {what} of {label(team.name)} {how}"
    return fit_message(text, blocks)


def _breaches(n: int) -> str:
    return "1 breach" if n == 1 else f"{n} breaches"


def _still(breach: BreachRecord) -> bool:
    """Breached when the silence ended: its episode was closed by the end, not by a recovery."""
    return breach.recovered_at is None


def _breach_line(breach: BreachRecord, tz: Any) -> str:
    value = "" if breach.value is None else f"{fmt_number(breach.value)}, "
    span = fmt_time(breach.first_at, tz)
    if breach.last_at > breach.first_at:
        span += f" – {fmt_time(breach.last_at, tz)}"
    end = "" if _still(breach) else " (recovered)"
    return f"• {label(breach.rule)}: {value}n {breach.n} · {span}{end}"


# -- lists: `silences`, the digest, App Home -------------------------------------------------------------


def silence_line(
    silence: SilenceRecord, team: Team | None, now: datetime, *, show_team: bool
) -> str:
    """• *S-3* · Delivery Ops · `csat` · until Sat 6 Dec 18:00 EST (3h left) · by @x — reason · 2 breaches"""
    parts = [f"*{silence.ref}*"]
    if show_team:
        parts.append(label(team.name if team is not None else silence.team))
    left = escape(fmt_duration(max(silence.ends_at - now, timedelta(0))))
    parts += [
        f"`{clip(one_line(silence.pattern), 60)}`",
        f"until {fmt_time(silence.ends_at, _tz(team))} ({left} left)",
        f"by {who(silence.created_by)} — {_reason(silence, REASON_LINE)}",
    ]
    if silence.breaches:
        parts.append(f"{_breaches(silence.breaches)} recorded")
    return "• " + " · ".join(parts)


def silences_answer(
    silences: Sequence[SilenceRecord],
    *,
    title: str,
    teams: Mapping[str, Team],
    now: datetime,
    command: str = "/feedback",
) -> dict[str, Any]:
    """The `silences [TEAM]` answer: a line per active silence; the team is named when there are several."""
    heading = f"*{clip(one_line(title), 200)}*"
    cmd = _command(command)
    if not silences:
        empty = (
            f"Nothing is silenced. `{cmd} silence TEAM RULE|all DURATION REASON` starts a silence."
        )
        return fit_message(f"{clip(one_line(title), 200)}: none", [section(heading + "\n" + empty)])
    several = len({s.team for s in silences}) > 1
    lines = [silence_line(s, teams.get(s.team), now, show_team=several) for s in silences]
    hint = f"`{cmd} unsilence S-n` ends one early."
    listing = Listing(lines, lambda n: (f"{n} more, not shown. " if n else "") + hint)
    text = f"{clip(one_line(title), 200)}: {plural(len(silences), 'active silence')}"
    return fit_message(text, [section(heading), listing])


def digest_silence_lines(silences: Sequence[SilenceRecord], team: Team) -> list[str]:
    """The digest's "what is silenced" lines: :no_bell: S-3 CSAT alerts silenced until … by @x — reason."""
    lines = []
    for s in silences:
        line = (
            f":no_bell: *{s.ref}* {silenced_what(s.pattern)} silenced until "
            f"{fmt_time(s.ends_at, team.tz)} by {who(s.created_by)} — {_reason(s, REASON_LINE)}"
        )
        if s.breaches:
            line += f" ({_breaches(s.breaches)} recorded)"
        lines.append(line)
    return lines


def home_silence_blocks(
    silences: Sequence[SilenceRecord],
    teams: Mapping[str, Team],
    *,
    now: datetime,
    command: str = "/feedback",
) -> list[Block]:
    """App Home's "Silenced alerts" section for the user's teams; nothing at all when nothing is silenced."""
    if not silences:
        return []
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": "Silenced alerts", "emoji": True},
    }
    listing = Listing(
        [silence_line(s, teams.get(s.team), now, show_team=True) for s in silences],
        lambda n: f"and {n} more — `{_command(command)} silences`" if n else "",
        max_items=HOME_MAX,
    )
    # Fitted here as well as in the view: App Home takes these as blocks.
    return fit([header, listing], max_blocks=MAX_VIEW_BLOCKS, max_chars=None)
