"""The /feedback parser for SPEC §9: breakdowns, categories, silences and the customer view; the help."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk.models.blocks import Block

from bot.slack.blocks.notice import notice
from bot.slack.grammar import parse, usage
from bot.slack.parsed import (
    Chart,
    CustomerView,
    ListSilences,
    Period,
    Silence,
    Stats,
    Unsilence,
    Usage,
)

D30, D90 = Period(30, "30d"), Period(90, "90d")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stats", Stats(None, D30)),
        ("stats all 90d by=segment", Stats("all", D90, "segment")),
        ("stats by=Channel delivery", Stats("delivery", D30, "channel")),
        ("stats BY=touchpoint", Stats(None, D30, "touchpoint")),
        ("stats delivery categories", Stats("delivery", D30, None, True)),
        ("stats categories all 90d", Stats("all", D90, None, True)),
        ("chart csat all by=category", Chart("csat", "all", D30, "category")),
        ("chart volume delivery 90d by=segment", Chart("volume", "delivery", D90, "segment")),
        ("chart ttr delivery", Chart("ttr", "delivery", D30, None)),
        (
            "silence delivery csat 4h carrier outage, INC-12",
            Silence("delivery", "csat", timedelta(hours=4), "carrier outage, INC-12"),
        ),
        (
            "silence Delivery SPC:CSAT 7d known &lt;slide&gt;",
            Silence("delivery", "spc:csat", timedelta(days=7), "known <slide>"),
        ),
        (
            "silence delivery complaints:late_delivery 90m depot flood\nsecond line",
            Silence(
                "delivery",
                "complaints:late_delivery",
                timedelta(minutes=90),
                "depot flood\nsecond line",
            ),
        ),
        (
            "silence support all 1w migration",
            Silence("support", "all", timedelta(weeks=1), "migration"),
        ),
        ("silences", ListSilences(None)),
        ("silences all", ListSilences("all")),
        ("silences delivery", ListSilences("delivery")),
        ("unsilence S-3", Unsilence(3)),
        ("unsilence s-03", Unsilence(3)),
        ("unsilence 12", Unsilence(12)),
        ("customer C-1042", CustomerView("C-1042")),
        ("customer <mailto:ann@example.com|ann@example.com>", CustomerView("ann@example.com")),
        ("customer  acme corp ", CustomerView("acme corp")),
    ],
)
def test_the_forms(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("stats by=seg", "Did you mean `by=segment`?"),
        ("stats by=colour", "is not a field to break down by"),
        ("stats by=segment by=channel", "Give `by=` once"),
        ("stats by=segment categories", "not both"),
        ("stats period=30d", "`period=` is not an option of stats"),
        ("chart ttr by=segment", "A `ttr` chart has no `by=`"),
        ("chart pareto all by=channel", "breakdowns are drawn for `csat`, `nps`, `ces`, `volume`"),
        ("chart by=segment", "Say which chart"),
        ("silence", "Say the team, which alerts"),
        ("silence delivery csat", "Say the team, which alerts"),
        ("silence all csat 4h outage", "a silence is for one team"),
        ("silence 42 csat 4h outage", "is not a team key"),
        ("silence delivery c$at 4h outage", "names no alert rule"),
        ("silence delivery csat soon outage", "is not a duration"),
        ("silence delivery csat 0h outage", "is not a duration"),
        ("silence delivery csat 8d outage", "at most 7d"),
        ("silence delivery csat 2w outage", "at most 7d"),
        ("silence delivery csat 4h", "Say why the alerts are silenced"),
        ("silences delivery support", "at most one team"),
        ("unsilence", "needs a silence id like `S-3`"),
        ("unsilence CA-3", "is not a silence id"),
        ("unsilence S-3 now", "one word too many"),
        ("customer", "Say which customer"),
        ("customer " + "x" * 201, "at most 200 characters"),
    ],
)
def test_mistakes_say_what_to_type(text: str, says: str) -> None:
    result = parse(text)
    assert isinstance(result, Usage), result
    assert says in result.message and "`/feedback help`" in result.message


def test_help_lists_the_new_commands_and_fits_slack() -> None:
    text = usage()
    bullets = {
        line.split()[2].strip("`:"): line for line in text.splitlines() if line.startswith("• ")
    }
    assert bullets["silence"].startswith("• `/feedback silence TEAM RULE|all DURATION REASON`: ")
    assert bullets["silence"].endswith("_(supervisors of the team, leaders)_")
    assert bullets["unsilence"].startswith("• `/feedback unsilence S-n`: ")
    assert bullets["silences"].endswith("_(anyone)_")
    assert bullets["customer"].endswith("_(supervisors (their teams), leaders)_")
    assert "[by=FIELD|categories]" in bullets["stats"] and "[by=FIELD]" in bullets["chart"]
    # The help is longer than one section holds: it is split, and nothing is cut off.
    message = notice(text)
    assert len(message["blocks"]) >= 2
    shown = "\n".join(b["text"]["text"] for b in message["blocks"])
    assert shown == text
    for block in message["blocks"]:
        assert len(block["text"]["text"]) <= 3000
        Block.parse(block).to_dict()  # raises on Slack's limits


def test_the_breakdown_fields_agree_with_the_core() -> None:
    from bot.charts import groups
    from bot.slack import parsed

    assert parsed.BY_FIELDS == groups.BY_FIELDS and parsed.BY_CHARTS == groups.BY_KINDS
