"""The App Home tab: the user's cases and corrective actions, their teams' open cases and headline metrics of
the last 7 days."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.reports.queries import Headline, HomeData
from bot.slack.blocks.case import button, context, section
from bot.slack.blocks.describe import label, row_line
from bot.slack.blocks.fit import Listing, Part, fit_view
from bot.slack.blocks.text import fmt_number
from bot.slack.ids import ActionId, CaseMeta
from config.teams import Team

Block = dict[str, Any]

ASSIGNED_MAX = 20  # one block each (they carry a button)
TEAM_OPEN_MAX = 60  # lines, packed several per block
TEAM_OPEN_SECTIONS = 10


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def headline_text(h: Headline, team_name: str) -> str:
    """*Delivery Ops* — CSAT 82.5 % (n=40) · NPS 31 (n=55) · CES 3.2 (n=12)"""

    def part(name: str, value: float | None, n: int, shown: str) -> str:
        return f"{name} no responses" if value is None else f"{name} {shown} (n={n})"

    csat = part("CSAT", h.csat, h.csat_n, f"{fmt_number(h.csat or 0)} %")
    nps = part("NPS", h.nps, h.nps_n, f"{round(h.nps or 0):d}")
    ces = part("CES", h.ces, h.ces_n, f"{fmt_number(h.ces or 0)}")
    return f"*{label(team_name)}* — {csat} · {nps} · {ces}"


def home_view(
    data: HomeData,
    teams: dict[str, Team],
    *,
    now: datetime,
    command: str = "/feedback",
    own_actions: list[Block] | None = None,
    silenced: list[Block] | None = None,
) -> dict[str, Any]:
    """A `home` view for views.publish; every section says what to do when it is empty. `own_actions`: the
    blocks of the person's corrective actions (bot.slack.blocks.action.my_actions_blocks); `silenced`: the
    silences of their teams."""

    def team_name(key: str) -> str:
        return teams[key].name if key in teams else key

    assigned = [
        section(
            row_line(row, team_name(row.team), now),
            accessory=button("Show", ActionId.SHOW, CaseMeta(case_id=row.id).dump()),
        )
        for row in data.assigned[:ASSIGNED_MAX]
    ]
    blocks: list[Part] = [
        _header("Assigned to you"),
        Listing(
            assigned,
            lambda n: f"and {n} more — `{command} list mine`" if n else "",
            total=len(data.assigned),
        ),
    ]
    if not data.assigned:
        blocks.append(
            section(
                "Nothing is assigned to you. Press *Assign to me* on a case in your team's channel, "
                f"or type `{command} assign FB-n me`."
            )
        )

    if own_actions:
        blocks += [{"type": "divider"}, *own_actions]
    if silenced:  # bot.slack.blocks.silence.home_silence_blocks: nothing when nothing is silenced
        blocks += [{"type": "divider"}, *silenced]
    blocks += [{"type": "divider"}, _header("Open in your teams")]
    blocks.append(
        Listing(
            [row_line(row, team_name(row.team), now) for row in data.team_open[:TEAM_OPEN_MAX]],
            lambda n: (
                f"and {n} more, oldest first — `{command} list TEAM` shows them all" if n else ""
            ),
            total=len(data.team_open),
            max_sections=TEAM_OPEN_SECTIONS,
        )
    )
    if not data.team_open:
        blocks.append(section("No open cases in your teams. :tada:"))

    blocks += [{"type": "divider"}, _header("Last 7 days")]
    # Leaders may see many teams: the lines take the room the view has left.
    blocks.append(
        Listing(
            [headline_text(h, team_name(h.team)) for h in data.headlines],
            lambda n: f"and {n} more teams — `{command} stats all`" if n else "",
        )
    )
    if not data.headlines:
        blocks.append(
            section(
                "Your teams' metrics show here once you are a member or supervisor of a team "
                "in Loopbot's config; ask your admin to add you."
            )
        )
    # <!date^…> shows the time in each viewer's own zone; the text after | is for clients that cannot.
    stamp = int(now.timestamp())
    blocks.append(
        context(
            f"Updated <!date^{stamp}^{{date_short_pretty}} at {{time}}|{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC>"
        )
    )
    return fit_view({"type": "home"}, blocks)
