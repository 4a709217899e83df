"""The `/feedback stats` message: one team's fields, the all-teams table, escaping, many teams within 50 blocks."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.reports.quality import Reopens
from bot.reports.queries import Headline
from bot.reports.stats import TeamStats
from bot.reports.weekly import Compliance
from bot.slack.blocks.stats import stats_message
from config.loader import parse_config
from slack_emulator.blockkit import message_errors
from tests.conftest import CONFIG
from tests.unit.test_blocks_kit import assert_message, no_foreign_markup, teams

U = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
P = U - timedelta(days=30)
H, MIN, DAY = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)


def delivery() -> TeamStats:  # the numbers of tests/storage/test_stats.py
    return TeamStats(
        team="delivery",
        since=P,
        until=U,
        opened=9,
        resolved=6,
        open=7,
        overdue=4,
        acknowledged=9,
        tta_median=15 * MIN,
        tta_p90=42 * DAY,
        ttr_median=4 * H + 30 * MIN,
        ttr_p90=2 * DAY,
        ack=Compliance(9, 5),
        resolve=Compliance(8, 5),
        headline=Headline("delivery", 50.0, 2, 25.0, 4, 13 / 3, 3),
        reopens=Reopens(resolved=7, reopened=2),
    )


def support() -> TeamStats:
    return TeamStats(
        team="support",
        since=P,
        until=U,
        opened=2,
        resolved=0,
        open=1,
        overdue=1,
        acknowledged=0,
        tta_median=None,
        tta_p90=None,
        ttr_median=None,
        ttr_p90=None,
        ack=Compliance(2, 0),
        resolve=Compliance(0, 0),
        headline=Headline("support", nps=-100 / 3, nps_n=3),
    )


def tables(msg: dict) -> list[str]:
    return [
        b["text"]["text"]
        for b in msg["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("```")
    ]


def test_one_team() -> None:
    msg = stats_message([delivery()], teams(), period_label="last 30 days", all_teams=False)
    assert_message(msg)
    no_foreign_markup(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert (
        msg["text"]
        == "Stats for Delivery Ops, last 30 days: 9 opened · 6 resolved · 7 open now (4 overdue)"
    )
    assert msg["blocks"][0]["text"]["text"] == "Stats"
    assert msg["blocks"][1]["elements"][0]["text"] == "last 30 days · 1 team"
    [fields] = [b for b in msg["blocks"] if "fields" in b]
    assert fields["text"]["text"] == "*Delivery Ops*"
    assert [f["text"] for f in fields["fields"]] == [
        "*Cases*\n9 opened · 6 resolved",
        "*Now*\n7 open · 4 overdue",
        "*Time to acknowledge*\nmedian 15m · p90 42d (9 cases)",
        "*Time to resolve*\nmedian 4h 30m · p90 2d (6 cases)",
        "*Acknowledged within SLA*\n56 % (5 of 9)",  # 100 · 5 / 9 = 55.6
        "*Resolved within SLA*\n62 % (5 of 8)",  # 62.5, rounded half to even
        "*CSAT*\n50 % (2)",
        "*NPS*\n25 (4)",
        "*CES*\n4.3 (3)",  # 13 / 3
        "*Reopened*\n29 % (2 of 7) · 71 % resolved without reopen",
    ]
    assert (
        "nearest rank" in msg["blocks"][-1]["elements"][0]["text"]
    )  # the legend says what p90 and SLA % mean


def test_one_team_without_measurements() -> None:
    msg = stats_message([support()], teams(), period_label="last 7 days", all_teams=False)
    assert_message(msg)
    [fields] = [b for b in msg["blocks"] if "fields" in b]
    texts = [f["text"] for f in fields["fields"]]
    assert texts[2:6] == [
        "*Time to acknowledge*\n— (no cases)",
        "*Time to resolve*\n— (no cases)",
        "*Acknowledged within SLA*\n0 % (0 of 2)",
        "*Resolved within SLA*\n— (no deadline fell in the period)",
    ]
    assert texts[6:] == [
        "*CSAT*\n—",
        "*NPS*\n-33 (3)",
        "*CES*\n—",
        "*Reopened*\n— (no case resolved)",
    ]


def test_all_teams_table() -> None:
    msg = stats_message(
        [delivery(), support()], teams(), period_label="last 30 days", all_teams=True
    )
    assert_message(msg)
    no_foreign_markup(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert (
        msg["text"]
        == "Stats for 2 teams, last 30 days: 11 opened · 6 resolved · 8 open now (5 overdue)"
    )
    assert msg["blocks"][0]["text"]["text"] == "Stats · all teams"
    assert tables(msg) == [
        "\n".join(
            [
                "```",
                "Team          Open  Overdue  Opened  Resolved  TTA p50  TTA p90  TTR p50  TTR p90  Ack SLA  Res SLA"
                "  CSAT (n)  NPS (n)  CES (n)  Reopen",
                "Delivery Ops     7        4       9         6      15m      42d   4h 30m       2d     56 %     62 %"
                "  50 % (2)   25 (4)  4.3 (3)    29 %",
                "Support          1        1       2         0        —        —        —        —      0 %        —"
                "         —  -33 (3)        —       —",
                "```",
            ]
        )
    ]


def test_team_names_are_escaped_and_cannot_close_the_code_block() -> None:
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["delivery"]["name"] = "R&D ```<!channel>``` and a very long name"
    cfg = dict(parse_config(raw, "x").teams)
    for all_teams in (False, True):
        msg = stats_message([delivery()], cfg, period_label="<!here> 30d", all_teams=all_teams)
        assert_message(msg)
        no_foreign_markup(msg)
        assert "<!channel>" not in str(msg) and "<!here>" not in str(msg)
    [table] = tables(stats_message([delivery()], cfg, period_label="30d", all_teams=True))
    assert table.count("```") == 2 and "R&amp;D '''&lt;!channel&gt;'''… " in table


def test_many_teams_stay_within_fifty_blocks() -> None:
    many = [replace(delivery(), team=f"team{i:03d}") for i in range(400)]
    msg = stats_message(many, teams(), period_label="last 30 days", all_teams=True)
    assert_message(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert len(msg["blocks"]) <= 50
    shown = sum(
        t.count("\n") - 2 for t in tables(msg)
    )  # rows between the fences and the column names
    assert 0 < shown <= 400
    if shown < 400:
        assert f"and {400 - shown} more teams" in msg["blocks"][-2]["elements"][0]["text"]
    # 20 teams, the size, fit whole
    twenty = stats_message(many[:20], teams(), period_label="last 30 days", all_teams=True)
    assert sum(t.count("\n") - 2 for t in tables(twenty)) == 20 and len(twenty["blocks"]) <= 50


def test_several_named_teams_without_all_and_no_teams() -> None:
    msg = stats_message(
        [delivery(), support()], teams(), period_label="last 30 days", all_teams=False
    )
    assert_message(msg)
    assert msg["blocks"][0]["text"]["text"] == "Stats"
    assert [b["text"]["text"] for b in msg["blocks"] if "fields" in b] == [
        "*Delivery Ops*",
        "*Support*",
    ]
    assert [b["type"] for b in msg["blocks"]].count("divider") == 1
    empty = stats_message([], teams(), period_label="last 30 days", all_teams=True)
    assert_message(empty)
    assert empty["blocks"][2]["text"]["text"] == "No teams to show."
