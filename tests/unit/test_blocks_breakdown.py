"""The `stats … by=FIELD` table and the keyword categories' agreement: equality, escaping, Slack's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.reports.breakdowns import Breakdown, Group, top
from bot.reports.quality import CategoryAgreement, CategoryFit, Pair
from bot.slack.blocks.breakdown import agreement_blocks, breakdown_message
from bot.slack.blocks.stats import stats_message
from tests.unit.test_blocks_kit import ATTACK, assert_message, no_foreign_markup, teams
from tests.unit.test_blocks_stats import delivery

U = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
P = U - timedelta(days=30)


def segments() -> Breakdown:  # the figures of tests/storage/test_breakdowns.py
    basic = Group(
        "basic", responses=20, csat_n=10, satisfied=4, ces_n=10, ces_sum=40, negative=11, cases=1
    )
    vip = Group(
        "vip", responses=15, csat_n=12, satisfied=10, nps_n=3, promoters=2, detractors=1,
        negative=3, cases=2,
    )  # fmt: skip
    none = Group(None, responses=2, ces_n=2, ces_sum=8, negative=1)
    return Breakdown(
        "segment", ("delivery", "support"), P, U, (basic, vip, none), basic + vip + none
    )


def agreement() -> CategoryAgreement:  # the figures of tests/storage/test_quality.py
    return CategoryAgreement(
        resolved=7,
        agreed=3,
        by_category=(
            CategoryFit("late_delivery", 5, 1),
            CategoryFit("app_error", 1, 1),
            CategoryFit("rude_staff", 1, 1),
        ),
        disagreements=(
            Pair("late_delivery", "app_error", 2),
            Pair("late_delivery", "other", 1),
            Pair("late_delivery", "rude_staff", 1),
        ),
        uncategorised=1,
    )


def test_one_row_per_group_then_all() -> None:
    msg = breakdown_message(segments(), teams(), period_label="last 30 days", all_teams=True)
    assert_message(msg)
    no_foreign_markup(msg)
    assert msg["text"] == (
        "Stats by segment for all teams, last 30 days: 37 responses, 3 segment values"
    )
    assert msg["blocks"][:2] == [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "Stats by segment", "emoji": True},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "last 30 days · all teams"}]},
    ]
    assert msg["blocks"][2]["text"]["text"] == "\n".join(
        [
            "```",
            "Segment  Responses     CSAT (n)  NPS (n)  CES (n)  Negative  Cases",
            "basic           20    40 % (10)        —   4 (10)        11      1",
            "vip             15  83.3 % (12)    — (3)        —         3      2",  # NPS n 3: no rate
            "(none)           2            —        —    — (2)         1      0",
            "------------------------------------------------------------------",
            "All             37  63.6 % (22)    — (3)   4 (12)        15      3",
            "```",
        ]
    )
    legend = msg["blocks"][3]["elements"][0]["text"]
    assert "fewer than 10 responses" in legend and len(msg["blocks"]) == 4


def test_named_teams_and_a_quiet_period() -> None:
    b = segments()
    msg = breakdown_message(b, teams(), period_label="last 7 days", all_teams=False)
    assert msg["blocks"][1]["elements"][0]["text"] == "last 7 days · Delivery Ops, Support"
    quiet = replace(b, groups=(), total=Group(None))
    msg = breakdown_message(quiet, teams(), period_label="last 7 days", all_teams=False)
    assert_message(msg)
    assert msg["blocks"][2]["text"]["text"] == "No responses in the period."
    assert msg["text"].endswith("0 responses, 0 segment values")


def test_customer_values_are_escaped_cut_and_folded_into_other() -> None:
    # Segments are the customers' data: Slack markup in them stays inert, a backtick cannot end the table.
    many = [
        Group(f"{ATTACK} ```{i}```", responses=20 - i, csat_n=20 - i, satisfied=1)
        for i in range(10)
    ]
    groups = top(many)
    b = Breakdown("channel", ("delivery",), P, U, groups, sum(many, Group(None)))
    msg = breakdown_message(b, teams(), period_label="last 30 days", all_teams=False)
    assert_message(msg)
    no_foreign_markup(msg)
    table = msg["blocks"][2]["text"]["text"]
    lines = table.split("\n")
    assert table.count("```") == 2 and lines[0] == lines[-1] == "```"
    assert lines[2].startswith("&lt;!channel&gt; &lt;@U123&gt; &lt;htt…  ")  # cut to 24 characters
    other = lines[10]  # after the column names and the 8 largest
    assert other.startswith("other (2 values)  ") and other.split()[3] == "23"  # 12 + 11 responses
    shown = [
        line.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") for line in lines[1:-1]
    ]
    assert len({len(line) for line in shown}) == 1  # columns stay aligned


def test_the_categories_answer() -> None:
    blocks = agreement_blocks(agreement())
    assert blocks[0]["text"]["text"] == "\n".join(
        [
            "*Keyword categories vs causes chosen*: 43 % agreed (3 of 7 resolved cases with a category)",
            "• `late_delivery` 20 % (1 of 5)",
            "• `app_error` 100 % (1 of 1)",
            "• `rude_staff` 100 % (1 of 1)",
            "*Most frequent disagreements* (category → cause):",
            "• `late_delivery` → `app_error`: 2",
            "• `late_delivery` → `other`: 1",
            "• `late_delivery` → `rude_staff`: 1",
            "1 more resolved case matched no keyword.",
        ]
    )
    assert blocks[1]["type"] == "context" and len(blocks) == 2
    none = agreement_blocks(CategoryAgreement())
    assert none[0]["text"]["text"].endswith(
        "No case resolved in the period had a keyword category."
    )


def test_a_long_taxonomy_is_cut_and_stays_within_a_section() -> None:
    fits = tuple(CategoryFit(f"cat_{i:02d}_" + "x" * 60, 2, 1) for i in range(40))
    a = CategoryAgreement(resolved=80, agreed=40, by_category=fits)
    blocks = agreement_blocks(a)
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert text.count("• `cat_") == 15 and "…and 25 more categories" in text
    assert all(len(b["text"]["text"]) <= 3_000 for b in blocks if b["type"] == "section")


def test_stats_with_categories_keeps_within_fifty_blocks() -> None:
    msg = stats_message(
        [delivery()], teams(), period_label="last 30 days", all_teams=False, agreement=agreement()
    )
    assert_message(msg)
    no_foreign_markup(msg)
    kinds = [b["type"] for b in msg["blocks"]]
    assert kinds == ["header", "context", "section", "divider", "section", "context", "context"]
    assert msg["blocks"][4]["text"]["text"].startswith(
        "*Keyword categories vs causes chosen*: 43 %"
    )
    many = [replace(delivery(), team=f"team{i:03d}") for i in range(400)]
    crowded = stats_message(
        many, teams(), period_label="last 30 days", all_teams=True, agreement=agreement()
    )
    assert_message(crowded)
    assert len(crowded["blocks"]) <= 50
    assert crowded["blocks"][-3]["text"]["text"].startswith("*Keyword categories")
