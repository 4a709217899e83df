"""The weekly summary message: the per-team table, escaping inside it, many teams, the chart's place."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from bot.reports.quality import CategoryAgreement, CategoryFit, Pair, Reopens
from bot.reports.queries import Headline
from bot.reports.weekly import Compliance, TeamWeek, WeeklySummary
from bot.slack.blocks.weekly import weekly_message
from config.loader import parse_config
from slack_emulator.blockkit import message_errors
from tests.conftest import CONFIG
from tests.unit.test_blocks_kit import assert_message, config, no_foreign_markup

W = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
P = W - timedelta(days=7)


def delivery_week(**kw: object) -> TeamWeek:
    values: dict[str, object] = dict(
        team="delivery",
        headline=Headline("delivery", 100 * 2 / 3, 3, 0.0, 2, 3.5, 2),
        opened=9,
        resolved=7,
        median_ttr=timedelta(days=1, hours=2),
        ack=Compliance(9, 5),
        resolve=Compliance(9, 4),
        reopens=Reopens(resolved=8, reopened=2),
    )
    values.update(kw)
    return TeamWeek(**values)  # type: ignore[arg-type]


def support_week() -> TeamWeek:
    return TeamWeek(
        team="support",
        headline=Headline("support", nps=-100 / 3, nps_n=3),
        opened=1,
        resolved=0,
        median_ttr=None,
        ack=Compliance(1, 1),
        resolve=Compliance(0, 0),
    )


def tables(msg: dict) -> list[str]:
    return [
        b["text"]["text"]
        for b in msg["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("```")
    ]


def test_weekly_table() -> None:
    msg = weekly_message(WeeklySummary(P, W, (delivery_week(), support_week())), config())
    assert_message(msg)
    no_foreign_markup(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert (
        msg["text"]
        == "Weekly summary Mon 2 Mar 09:00 UTC → Mon 9 Mar 09:00 UTC: 2 teams · 10 cases opened · 7 resolved"
    )
    assert msg["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Weekly summary", "emoji": True},
    }
    assert (
        msg["blocks"][1]["elements"][0]["text"]
        == "Mon 2 Mar 09:00 UTC → Mon 9 Mar 09:00 UTC · 2 teams"
    )
    assert tables(msg) == [
        "\n".join(
            [
                "```",
                "Team            CSAT (n)  NPS (n)  CES (n)  Opened  Resolved  Med TTR  Ack SLA  Res SLA  Reopen",
                "Delivery Ops  66.7 % (3)    0 (2)  3.5 (2)       9         7    1d 2h     56 %     44 %    25 %",
                "Support                —  -33 (3)        —       1         0        —    100 %        —       —",
                "```",
            ]
        )
    ]
    assert (
        "deadline fell this week" in msg["blocks"][-1]["elements"][0]["text"]
    )  # the legend says what SLA % counts


def test_team_names_are_escaped_cut_and_cannot_close_the_code_block() -> None:
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["delivery"]["name"] = "R&D ```<!channel>``` and a very long name"
    cfg = parse_config(raw, "x")
    msg = weekly_message(WeeklySummary(P, W, (delivery_week(), support_week())), cfg)
    assert_message(msg)
    no_foreign_markup(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    [table] = tables(msg)
    lines = table.split("\n")
    assert table.count("```") == 2 and lines[0] == lines[-1] == "```"
    assert lines[2].startswith(
        "R&amp;D '''&lt;!channel&gt;'''…  66.7 % (3)"
    )  # cut to at most 22 characters
    # Columns stay aligned: the escaped name is padded as the characters Slack shows
    shown = [
        line.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") for line in lines[1:-1]
    ]
    assert len({len(line) for line in shown}) == 1


def test_many_teams_stay_within_50_blocks_and_say_how_many_are_left_out() -> None:
    weeks = tuple(
        delivery_week(team=f"team-{i:04d}") for i in range(3_000)
    )  # unknown keys show as themselves
    msg = weekly_message(WeeklySummary(P, W, weeks), config())
    assert_message(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert len(msg["blocks"]) <= 50
    rows = sum(len(t.split("\n")) - 3 for t in tables(msg))  # fences and the column names
    more = [
        b
        for b in msg["blocks"]
        if b["type"] == "context" and b["elements"][0]["text"].startswith("and ")
    ]
    assert (
        more[0]["elements"][0]["text"]
        == f"and {3_000 - rows} more teams; `/feedback stats TEAM 7d` shows any team"
    )
    # Slack's ~13k total, not its 50 blocks, is what stops the table.
    assert all(len(t) <= 3_000 for t in tables(msg)) and rows > 50


def test_no_teams() -> None:
    msg = weekly_message(WeeklySummary(P, W, ()), config())
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert msg["blocks"][2]["text"]["text"] == "No teams are configured."
    assert msg["text"].endswith("0 teams · 0 cases opened · 0 resolved")


def test_the_keyword_categories_line() -> None:
    agreement = CategoryAgreement(
        resolved=7,
        agreed=3,
        by_category=(CategoryFit("late_delivery", 5, 1), CategoryFit("app_error", 2, 2)),
        disagreements=(
            Pair("late_delivery", "app_error", 2),
            Pair("late_delivery", "other", 1),
            Pair("late_delivery", "rude_staff", 1),
            Pair("rude_staff", "other", 1),
        ),
    )
    summary = WeeklySummary(P, W, (delivery_week(), support_week()), agreement=agreement)
    msg = weekly_message(summary, config())
    assert_message(msg)
    no_foreign_markup(msg)
    assert msg["blocks"][-2]["text"]["text"] == (
        ":label: Keyword categories matched the cause chosen in *43 %* of resolved cases (3 of 7); "
        "most frequent disagreements: `late_delivery` → `app_error`: 2 · `late_delivery` → `other`: 1 · "
        "`late_delivery` → `rude_staff`: 1"
    )  # the weekly line names the top 3; `stats … categories` all 5
    # Without any resolved case that had a category, no line: the legend follows the table
    plain = weekly_message(WeeklySummary(P, W, (delivery_week(),)), config())
    assert ":label:" not in str(plain["blocks"])
    many = tuple(delivery_week(team=f"team-{i:04d}") for i in range(3_000))
    crowded = weekly_message(WeeklySummary(P, W, many, agreement=agreement), config())
    assert len(crowded["blocks"]) <= 50 and ":label:" in crowded["blocks"][-2]["text"]["text"]
