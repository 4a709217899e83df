"""The `/feedback customer ID` answer: repeat counts, then the customer's responses and cases, newest first."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.customer import CustomerCase, CustomerView, Response
from bot.slack.blocks.case import context, section
from bot.slack.blocks.fit import Listing, Part, fit_message
from bot.slack.blocks.text import clip, cut, escape, one_line, plural
from config.teams import Team

Block = dict[str, Any]

COMMENT_LIMIT = (
    200  # a list line, not the case message: the verbatim's start says what it was about
)
_ID_LIMIT = 100  # a customer id is the survey tool's; this only bounds a pathological one
_NAME_LIMIT = 60
# Repeat lines per team and shared causes shown: the section must stay under 3,000 characters.
TEAM_LINES = 15


def customer_message(view: CustomerView, teams: dict[str, Team]) -> dict[str, Any]:
    """The ephemeral answer; times in each row's team's zone."""
    who = clip(one_line(view.customer), _ID_LIMIT).replace("`", "'")  # it sits in inline code
    scope = (
        "all teams"
        if view.all_teams
        # Already escaped; a leader may see hundreds of teams, and this is one context line.
        else cut(", ".join(_name(k, teams) for k in view.scope), 1_000)
    )
    blocks: list[Part] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Customer view", "emoji": True}},
        context(f"Customer `{who}` · last 365 days · {scope}"),
        section("\n".join(_repeats(view, teams))),
        {"type": "divider"},
    ]
    responses = [_response(r, teams) for r in view.responses]
    blocks.append(_listed("Responses", responses, view.total_responses, "response"))
    blocks.append({"type": "divider"})
    blocks.append(_listed("Cases", [_case(c, teams) for c in view.cases], view.total_cases, "case"))
    blocks.append(
        context(
            "Comments as stored: masked at ingestion. Negative: by the team's limits. A case's cause is its "
            "latest resolution's while it stands resolved; duplicates name none. Dates in each team's zone."
        )
    )
    text = (
        f"Customer {one_line(view.customer)[:_ID_LIMIT]}: {plural(view.total_responses, 'response')} "
        f"({view.total_negative} negative) and {plural(view.total_cases, 'case')} in the last 365 days"
    )
    return fit_message(escape(text), blocks)


def _repeats(view: CustomerView, teams: dict[str, Team]) -> list[str]:
    lines = [
        f"*{plural(view.total_responses, 'response')}* ({view.total_negative} negative) · "
        f"*{plural(view.total_cases, 'case')}*"
    ]
    if len(view.teams) > 1:
        lines.extend(
            f"• {_name(t.team, teams)}: {plural(t.responses, 'response')} ({t.negative} negative) · "
            f"{plural(t.cases, 'case')}"
            for t in view.teams[:TEAM_LINES]
        )
        if len(view.teams) > TEAM_LINES:
            lines.append(f"…and {plural(len(view.teams) - TEAM_LINES, 'more team')}")
    if view.shared_causes:
        shared = " · ".join(f"`{_cause(c)}` ×{n}" for c, n in view.shared_causes[:TEAM_LINES])
        lines.append(f"Cases sharing a cause: {shared}")
    return lines


def _listed(title: str, lines: list[str], total: int, noun: str) -> Part:
    if not lines:
        return section(f"*{title}*: none in these teams.")
    return Listing(
        lines,
        lambda n: f"…and {plural(n, 'more ' + noun)}" if n else "",
        total=total,
        title=f"*{title}* (newest first)",
    )


def _response(r: Response, teams: dict[str, Team]) -> str:
    where = _name(r.team, teams) + (
        f" · {clip(one_line(r.touchpoint), 60)}" if r.touchpoint else ""
    )
    negative = " (negative)" if r.negative else ""
    line = f"• {_date(r.submitted_at, _zone(r.team, teams))} · {r.metric.upper()} *{r.score}*{negative} · {where}"
    if r.comment:
        line += f": “{clip(one_line(r.comment), COMMENT_LIMIT)}”"
    return line


def _case(c: CustomerCase, teams: dict[str, Team]) -> str:
    if c.outcome == "duplicate" and c.state == "resolved":
        state = "resolved (duplicate)"
    elif c.cause:
        state = f"{c.state} · cause `{_cause(c.cause)}`"
    else:
        state = c.state
    opened = _date(c.opened_at, _zone(c.team, teams))
    return f"• *{c.ref}* · {state} · opened {opened} · {_name(c.team, teams)}"


def _cause(cause: str) -> str:
    return clip(cause, 40).replace("`", "'")


def _name(key: str, teams: dict[str, Team]) -> str:
    team = teams.get(key)
    return clip(one_line(team.name if team else key), _NAME_LIMIT)


def _zone(key: str, teams: dict[str, Team]) -> tzinfo:
    team = teams.get(key)
    return team.tz if team else ZoneInfo("UTC")


def _date(at: datetime, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return f"{local.day} {local:%b %Y}"
