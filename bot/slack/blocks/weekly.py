"""The weekly summary message for the leaders' channel: one monospace table row per team."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.weekly import TeamWeek, WeeklySummary
from bot.slack.blocks.breakdown import agreement_line
from bot.slack.blocks.case import context, section
from bot.slack.blocks.fit import Part, fit_message
from bot.slack.blocks.table import MISSING, duration_cell, metric_cell, percent_cell, table_listing
from bot.slack.blocks.text import fmt_number, fmt_time, one_line, plural, truncate
from config.teams import LoopbotConfig

Block = dict[str, Any]

TEAM_WIDTH = 22  # longer names are cut: the table must stay narrow enough not to wrap
COLUMNS = (
    "Team",
    "CSAT (n)",
    "NPS (n)",
    "CES (n)",
    "Opened",
    "Resolved",
    "Med TTR",
    "Ack SLA",
    "Res SLA",
    "Reopen",
)


def weekly_message(
    w: WeeklySummary,
    config: LoopbotConfig,
    *,
    command: str = "/feedback",
) -> dict[str, Any]:
    """chat.postMessage payload; the CSAT chart follows as an upload of its own (bot.reports.weekly.weekly_chart)."""
    tz = _zone(config)
    rows = [_cells(t, config) for t in w.teams]
    learned = agreement_line(w.agreement)
    blocks: list[Part] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Weekly summary", "emoji": True}},
        context(
            f"{fmt_time(w.since, tz)} → {fmt_time(w.until, tz)} · {plural(len(w.teams), 'team')}"
        ),
    ]
    blocks.append(
        table_listing(
            COLUMNS,
            rows,
            lambda n: (
                f"and {plural(n, 'more team')}; `{command} stats TEAM 7d` shows any team"
                if n
                else ""
            ),
        )
    )
    if not rows:
        blocks.append(section("No teams are configured."))
    if w.fixes_judged:
        blocks.append(
            section(
                f":test_tube: Fixes verified this week: *{w.fixes_verified} of {w.fixes_judged}* "
                f"(`{command} actions all all` lists them)"
            )
        )
    if learned:
        blocks.append(section(learned))
    blocks.append(
        context(
            "Med TTR: median time to resolve of the cases resolved this week. "
            "Ack SLA / Res SLA: share of the cases whose acknowledge / resolve deadline fell this week "
            "that met it. Reopen: share of the cases resolved this week that were reopened at least once. "
            "The CSAT chart of the last four weeks follows."
        )
    )
    return fit_message(fallback(w, config), blocks)


def fallback(w: WeeklySummary, config: LoopbotConfig) -> str:
    tz = _zone(config)
    opened = sum(t.opened for t in w.teams)
    resolved = sum(t.resolved for t in w.teams)
    return (
        f"Weekly summary {fmt_time(w.since, tz)} → {fmt_time(w.until, tz)}: {plural(len(w.teams), 'team')} · "
        f"{plural(opened, 'case')} opened · {resolved} resolved"
    )


def _zone(config: LoopbotConfig) -> ZoneInfo:
    return ZoneInfo(
        config.defaults.timezone
    )  # SPEC §3: the weekly summary's cron runs in defaults.timezone


def _cells(t: TeamWeek, config: LoopbotConfig) -> tuple[str, ...]:
    team = config.teams.get(t.team)
    name = truncate(one_line(team.name if team else t.team), TEAM_WIDTH).replace(
        "`", "'"
    )  # a backtick would end the code block
    h = t.headline
    return (
        name,
        metric_cell(h.csat, h.csat_n, 1, " %"),
        metric_cell(h.nps, h.nps_n, 0),
        metric_cell(h.ces, h.ces_n, 1),
        str(t.opened),
        str(t.resolved),
        duration_cell(t.median_ttr),
        percent_cell(t.ack),
        percent_cell(t.resolve),
        MISSING if t.reopens.rate is None else f"{fmt_number(t.reopens.rate, 0)} %",
    )
