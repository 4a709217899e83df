"""The App Home view: assigned cases with a Show button, team cases, headline metrics, empty states, limits."""

from __future__ import annotations

from datetime import timedelta

from bot.reports.queries import Headline, HomeData
from bot.slack.blocks.home import headline_text, home_view
from bot.slack.ids import ActionId, CaseMeta
from tests.unit.test_blocks_kit import T0, assert_view, no_foreign_markup, row, teams

NOW = T0 + timedelta(minutes=10)


def _headers(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def test_home_view_with_everything() -> None:
    data = HomeData(
        user="U0AGENT1",
        assigned=[row(12, assignee="U0AGENT1")],
        team_open=[row(12, assignee="U0AGENT1"), row(13, team="support", severity="medium")],
        headlines=[
            Headline("delivery", 82.5, 40, 31.4, 55, 3.21, 12),
            Headline("support", nps=-12.0, nps_n=7),
        ],
    )
    view = home_view(data, teams(), now=NOW)
    assert_view(view)
    assert view["type"] == "home"
    assert _headers(view) == ["Assigned to you", "Open in your teams", "Last 7 days"]
    assigned = view["blocks"][1]
    assert (
        assigned["text"]["text"]
        == "• *FB-12* :red_circle: CSAT 1/5 · late_delivery · Delivery Ops · open 10m · <@U0AGENT1>"
    )
    assert assigned["accessory"]["action_id"] == ActionId.SHOW
    assert CaseMeta.load(assigned["accessory"]["value"]) == CaseMeta(case_id=12)
    metrics = next(
        b["text"]["text"]
        for b in view["blocks"]
        if "CSAT" in b.get("text", {}).get("text", "") and "n=" in b["text"]["text"]
    )
    assert metrics.split("\n") == [
        "*Delivery Ops* — CSAT 82.5 % (n=40) · NPS 31 (n=55) · CES 3.2 (n=12)",
        "*Support* — CSAT no responses · NPS -12 (n=7) · CES no responses",
    ]
    footer = view["blocks"][-1]["elements"][0]["text"]
    assert (
        footer
        == f"Updated <!date^{int(NOW.timestamp())}^{{date_short_pretty}} at {{time}}|2024-12-02 14:21 UTC>"
    )


def test_home_view_empty_states_say_what_to_do() -> None:
    view = home_view(HomeData(user="U0NEW", assigned=[], team_open=[]), teams(), now=NOW)
    assert_view(view)
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert sections == [
        "Nothing is assigned to you. Press *Assign to me* on a case in your team's channel, "
        "or type `/feedback assign FB-n me`.",
        "No open cases in your teams. :tada:",
        "Your teams' metrics show here once you are a member or supervisor of a team in Loopbot's config; "
        "ask your admin to add you.",
    ]


def test_headline_text_escapes_the_team_name() -> None:
    assert headline_text(Headline("x", 100.0, 1, 100.0, 1, 1.0, 1), "R&D <!here>") == (
        "*R&amp;D &lt;!here&gt;* — CSAT 100 % (n=1) · NPS 100 (n=1) · CES 1 (n=1)"
    )


def test_a_leader_with_everything_stays_within_100_blocks() -> None:
    heavy = {"metric": "csat", "score": 1, "category": "<x>" * 60}
    data = HomeData(
        user="U0LEADER1",
        assigned=[row(i, assignee="U0LEADER1", summary=heavy) for i in range(1, 81)],
        team_open=[row(i, summary=heavy) for i in range(1, 501)],
        headlines=[Headline(f"team{i}", 80.0, 10, 10.0, 10, 3.0, 10) for i in range(5000)],
    )
    view = home_view(data, {}, now=NOW)
    assert_view(view)
    no_foreign_markup(view)
    notes = [b["elements"][0]["text"] for b in view["blocks"] if b["type"] == "context"]
    assert notes[0] == "and 60 more — `/feedback list mine`"
    assert notes[1].startswith("and ") and notes[1].endswith(
        "more, oldest first — `/feedback list TEAM` shows them all"
    )
    assert notes[2].startswith("and ") and notes[2].endswith("more teams — `/feedback stats all`")
