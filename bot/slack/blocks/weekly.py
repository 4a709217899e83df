"""The weekly summary message for the leaders' channel: one monospace table row per team."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack.blocks.case import MAX_MESSAGE_BLOCKS, SECTION_LIMIT, context, section
from bot.slack.blocks.text import escape, fmt_duration, fmt_number, fmt_time, one_line, pack_lines, plural, truncate
from bot.weekly import Compliance, TeamWeek, WeeklySummary
from config.teams import LoopbotConfig

Block = dict[str, Any]

TEAM_WIDTH = 22  # longer names are cut: the table must stay narrow enough not to wrap
COLUMNS = ("Team", "CSAT (n)", "NPS (n)", "CES (n)", "Opened", "Resolved", "Med TTR", "Ack SLA", "Res SLA")
_FENCE = "```"
# Header, period, legend and "and N more" around the table sections; the chart (when given) takes one more.
_FIXED_BLOCKS = 4


def weekly_message(
    w: WeeklySummary, config: LoopbotConfig, *, chart: Block | None = None, command: str = "/feedback",
) -> dict[str, Any]:
    """chat.postMessage payload. `chart` is the seam for the weekly chart: an image block shown under the table."""
    tz = _zone(config)
    rows = [_cells(t, config) for t in w.teams]
    widths = [max(len(c) for c in column) for column in zip(COLUMNS, *rows)]
    head = _line(COLUMNS, widths)
    # Each section repeats the column names, so a table split over several sections still reads.
    room = SECTION_LIMIT - len(head) - 2 * len(_FENCE) - 3
    groups = pack_lines([_line(cells, widths) for cells in rows], room)
    budget = MAX_MESSAGE_BLOCKS - _FIXED_BLOCKS - (chart is not None)
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly summary", "emoji": True}},
        context(f"{fmt_time(w.since, tz)} → {fmt_time(w.until, tz)} · {plural(len(w.teams), 'team')}"),
    ]
    blocks.extend(section(f"{_FENCE}\n{head}\n" + "\n".join(group) + f"\n{_FENCE}") for group in groups[:budget])
    shown = sum(len(group) for group in groups[:budget])
    if len(rows) > shown:
        blocks.append(context(f"and {plural(len(rows) - shown, 'more team')}; `{command} stats TEAM 7d` shows any team"))
    if not rows:
        blocks.append(section("No teams are configured."))
    if chart is not None:
        blocks.append(chart)
    blocks.append(context("Med TTR: median time to resolve of the cases resolved this week. "
                          "Ack SLA / Res SLA: share of the cases whose acknowledge / resolve deadline fell this week "
                          "that met it."))
    return {"text": fallback(w, config), "blocks": blocks}


def fallback(w: WeeklySummary, config: LoopbotConfig) -> str:
    tz = _zone(config)
    opened = sum(t.opened for t in w.teams)
    resolved = sum(t.resolved for t in w.teams)
    return (f"Weekly summary {fmt_time(w.since, tz)} → {fmt_time(w.until, tz)}: {plural(len(w.teams), 'team')} · "
            f"{plural(opened, 'case')} opened · {resolved} resolved")


def _zone(config: LoopbotConfig) -> ZoneInfo:
    return ZoneInfo(config.defaults.timezone)  # SPEC §3: the weekly summary's cron runs in defaults.timezone


def _cells(t: TeamWeek, config: LoopbotConfig) -> tuple[str, ...]:
    team = config.teams.get(t.team)
    name = truncate(one_line(team.name if team else t.team), TEAM_WIDTH).replace("`", "'")  # a backtick would end the code block
    h = t.headline
    return (name, _metric(h.csat, h.csat_n, 1, " %"), _metric(h.nps, h.nps_n, 0), _metric(h.ces, h.ces_n, 1),
            str(t.opened), str(t.resolved), _duration(t.median_ttr), _percent(t.ack), _percent(t.resolve))


def _metric(value: float | None, n: int, decimals: int, unit: str = "") -> str:
    return "—" if value is None else f"{fmt_number(value, decimals)}{unit} ({n})"


def _duration(td: timedelta | None) -> str:
    return "—" if td is None else fmt_duration(td)


def _percent(c: Compliance) -> str:
    return "—" if c.percent is None else f"{fmt_number(c.percent, 0)} %"


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    # Padded on the raw text, escaped after: Slack shows &amp; as one character, even inside a code block.
    first, *rest = cells
    return escape(first.ljust(widths[0])) + "  " + "  ".join(c.rjust(w) for c, w in zip(rest, widths[1:]))

