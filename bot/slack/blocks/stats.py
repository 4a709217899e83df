"""The `/feedback stats` answer: one team as labelled fields, `all` as a monospace table with one row per team."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, timedelta
from typing import Any

from bot.alerts.silence_model import BreachCount
from bot.reports.quality import CategoryAgreement, Reopens
from bot.reports.stats import TeamStats
from bot.reports.weekly import Compliance
from bot.slack.blocks.breakdown import agreement_blocks
from bot.slack.blocks.case import context, section
from bot.slack.blocks.fit import Listing, Part, fit_message
from bot.slack.blocks.table import (
    MISSING,
    duration_cell,
    metric_cell,
    percent_cell,
    table_listing,
)
from bot.slack.blocks.text import (
    clip,
    escape,
    fmt_duration,
    fmt_number,
    fmt_time,
    one_line,
    plural,
    truncate,
)
from config.teams import Team

Block = dict[str, Any]

DETAIL_MAX = (
    5  # beyond this many teams the fields would be a wall of numbers: the table reads better
)
TEAM_WIDTH = 22  # longer names are cut: the table must stay narrow enough not to wrap
COLUMNS = (
    "Team",
    "Open",
    "Overdue",
    "Opened",
    "Resolved",
    "TTA p50",
    "TTA p90",
    "TTR p50",
    "TTR p90",
    "Ack SLA",
    "Res SLA",
    "CSAT (n)",
    "NPS (n)",
    "CES (n)",
    "Reopen",
)
_NAME_LIMIT = (
    150  # a team name in the fields view; names are short, this only bounds a pathological one
)
LEGEND = (
    "Open and overdue: now. TTA / TTR: median (p50) and 90th percentile (nearest rank) over the cases first "
    "acknowledged / resolved in the period. Ack / Res SLA: share of the cases whose acknowledge / resolve "
    "deadline fell in the period that met it. Reopen: share of the cases resolved in the period that were "
    "reopened at least once; the rest were resolved without a reopen."
)


def stats_message(
    stats: list[TeamStats],
    teams: dict[str, Team],
    *,
    period_label: str,
    all_teams: bool,
    command: str = "/feedback",
    agreement: CategoryAgreement | None = None,
    silenced: Sequence[BreachCount] = (),
) -> dict[str, Any]:
    """chat.postMessage / response payload. `period_label` is how the period reads, e.g. "last 30 days";
    `agreement` (`stats … categories`) adds the keyword categories against the causes chosen; `silenced`
    the breaches that silences kept from opening cases in the period."""
    detailed = not all_teams and 0 < len(stats) <= DETAIL_MAX
    # Team names go in the mrkdwn below, escaped, not in the plain-text header.
    title = "Stats · all teams" if all_teams else "Stats"
    blocks: list[Part] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
        context(f"{clip(one_line(period_label), 200)} · {plural(len(stats), 'team')}"),
    ]
    if not stats:
        blocks.append(section("No teams to show."))
    elif detailed:
        for i, t in enumerate(stats):
            if i:
                blocks.append({"type": "divider"})
            blocks.append(_team_section(t, teams))
    else:
        blocks.append(_table(stats, teams, command))
    if agreement is not None:
        blocks.append({"type": "divider"})
        blocks.extend(agreement_blocks(agreement))
    if silenced:
        blocks.append(_silenced(silenced, teams))
    blocks.append(context(LEGEND))
    text = fallback(stats, teams, period_label=period_label, all_teams=all_teams)
    return fit_message(text, blocks)


def _silenced(breaches: Sequence[BreachCount], teams: dict[str, Team]) -> Listing:
    """:no_bell: Breaches kept quiet by silences — recorded, no case opened."""
    lines = []
    for b in breaches:
        team = teams.get(b.team)
        last = fmt_time(b.last_at, team.tz if team else UTC)
        lines.append(
            f"• {clip(one_line(_name(b.team, teams)), _NAME_LIMIT)} · {clip(one_line(b.rule), 200)}: "
            f"{b.episodes} breach{'es' if b.episodes != 1 else ''}, last {last}"
        )
    title = ":no_bell: *Breaches kept quiet by silences* (recorded, no case opened)"
    return Listing(lines, title=title, inline=True)


def fallback(
    stats: list[TeamStats], teams: dict[str, Team], *, period_label: str, all_teams: bool
) -> str:
    who = (
        _name(stats[0].team, teams)
        if len(stats) == 1 and not all_teams
        else plural(len(stats), "team")
    )
    opened, resolved = sum(t.opened for t in stats), sum(t.resolved for t in stats)
    open_, overdue = sum(t.open for t in stats), sum(t.overdue for t in stats)
    return escape(
        one_line(
            f"Stats for {who}, {period_label}: {opened} opened · {resolved} resolved · "
            f"{open_} open now ({overdue} overdue)"
        )
    )


def _team_section(t: TeamStats, teams: dict[str, Team]) -> Block:
    h = t.headline
    fields = [
        f"*Cases*\n{t.opened} opened · {t.resolved} resolved",
        f"*Now*\n{t.open} open · {t.overdue} overdue",
        f"*Time to acknowledge*\n{_spread(t.tta_median, t.tta_p90, t.acknowledged)}",
        f"*Time to resolve*\n{_spread(t.ttr_median, t.ttr_p90, t.resolved)}",
        f"*Acknowledged within SLA*\n{_compliance(t.ack)}",
        f"*Resolved within SLA*\n{_compliance(t.resolve)}",
        f"*CSAT*\n{metric_cell(h.csat, h.csat_n, 1, ' %')}",
        f"*NPS*\n{metric_cell(h.nps, h.nps_n, 0)}",
        f"*CES*\n{metric_cell(h.ces, h.ces_n, 1)}",
        f"*Reopened*\n{_reopens(t.reopens)}",
    ]  # Slack: at most 10 fields of 2,000 characters
    return section(
        f"*{clip(one_line(_name(t.team, teams)), _NAME_LIMIT)}*",
        fields=[{"type": "mrkdwn", "text": f} for f in fields],
    )


def _spread(median: timedelta | None, p90: timedelta | None, n: int) -> str:
    if median is None or p90 is None:
        return "— (no cases)"
    return f"median {fmt_duration(median)} · p90 {fmt_duration(p90)} ({plural(n, 'case')})"


def _reopens(r: Reopens) -> str:
    if r.rate is None or r.without_reopen is None:
        return "— (no case resolved)"
    return (
        f"{fmt_number(r.rate, 0)} % ({r.reopened} of {r.resolved}) · "
        f"{fmt_number(r.without_reopen, 0)} % resolved without reopen"
    )


def _reopen_cell(r: Reopens) -> str:
    return MISSING if r.rate is None else f"{fmt_number(r.rate, 0)} %"


def _compliance(c: Compliance) -> str:
    if c.percent is None:
        return "— (no deadline fell in the period)"
    return f"{fmt_number(c.percent, 0)} % ({c.met} of {c.due})"


def _name(key: str, teams: dict[str, Team]) -> str:
    team = teams.get(key)
    return team.name if team else key


def _table(stats: list[TeamStats], teams: dict[str, Team], command: str) -> Listing:
    return table_listing(
        COLUMNS,
        [_cells(t, teams) for t in stats],
        lambda n: (
            f"and {plural(n, 'more team')}; `{command} stats TEAM` shows any team" if n else ""
        ),
    )


def _cells(t: TeamStats, teams: dict[str, Team]) -> tuple[str, ...]:
    name = truncate(one_line(_name(t.team, teams)), TEAM_WIDTH).replace(
        "`", "'"
    )  # a backtick would end the code block
    h = t.headline
    return (
        name,
        str(t.open),
        str(t.overdue),
        str(t.opened),
        str(t.resolved),
        duration_cell(t.tta_median),
        duration_cell(t.tta_p90),
        duration_cell(t.ttr_median),
        duration_cell(t.ttr_p90),
        percent_cell(t.ack),
        percent_cell(t.resolve),
        metric_cell(h.csat, h.csat_n, 1, " %"),
        metric_cell(h.nps, h.nps_n, 0),
        metric_cell(h.ces, h.ces_n, 1),
        _reopen_cell(t.reopens),
    )
