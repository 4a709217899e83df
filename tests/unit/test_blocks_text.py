"""Escaping, truncation, durations and times for Slack mrkdwn; and the ids and metadata of bot.slack.ids."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import bot.cases.action_model
import bot.cases.action_rules
import bot.cases.actions
import bot.cases.checks
import bot.cases.lifecycle
from bot.errors import InvalidInput
from bot.slack.blocks.text import (
    clip,
    escape,
    fmt_duration,
    fmt_number,
    fmt_time,
    pack_lines,
    truncate,
    who,
)
from bot.slack.ids import ActionId, BlockId, CallbackId, CaseMeta
from tests.unit.test_blocks_kit import ATTACK

NY = ZoneInfo("America/New_York")


def test_escape_makes_mentions_and_links_inert() -> None:
    assert (
        escape(ATTACK)
        == "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; jane@…"
    )
    assert escape("&amp;") == "&amp;amp;"  # already-escaped text from a customer stays literal


def test_truncate_cuts_raw_text_with_an_ellipsis() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("x" * 10, 10) == "x" * 10
    assert truncate("x" * 11, 10) == "x" * 9 + "…"
    assert truncate("abc   def", 5) == "abc…"  # no dangling space before the ellipsis


def test_clip_counts_raw_characters_then_escapes() -> None:
    assert clip("<" * 600, 500) == "&lt;" * 499 + "…"


def test_clip_keeps_the_escaped_text_within_the_budget_without_half_entities() -> None:
    out = clip("a&" * 500, 1000, budget=301)
    assert len(out) <= 301
    assert out.endswith("…")
    assert "&" not in re.sub(r"&(amp|lt|gt);", "", out)


def test_who_mentions_only_user_ids() -> None:
    assert who("U0AGENT1") == "<@U0AGENT1>"
    assert who("loopbot") == "Loopbot"
    assert who("<!channel>") == "&lt;!channel&gt;"


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(seconds=30), "<1m"),
        (timedelta(minutes=4, seconds=59), "4m"),
        (timedelta(hours=1, minutes=20), "1h 20m"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=2, hours=3, minutes=10), "2d 3h"),
        (timedelta(days=1), "1d"),
    ],
)
def test_fmt_duration(td: timedelta, text: str) -> None:
    assert fmt_duration(td) == text


def test_fmt_time_is_in_the_team_zone() -> None:
    assert fmt_time(datetime(2024, 12, 2, 14, 15, tzinfo=UTC), NY) == "Mon 2 Dec 09:15 EST"
    assert fmt_time(datetime(2024, 7, 1, 13, 5, tzinfo=UTC), NY) == "Mon 1 Jul 09:05 EDT"


def test_fmt_number() -> None:
    assert (fmt_number(80.0), fmt_number(72.41), fmt_number(3.25)) == ("80", "72.4", "3.2")


def test_pack_lines_keeps_order_and_limit() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(100)]
    groups = pack_lines(lines, 1000)
    assert [line for group in groups for line in group] == lines
    assert all(len("\n".join(group)) <= 1000 for group in groups)
    assert len(groups) == 10


# -- ids -----------------------------------------------------------------------------------------------


def test_ids_have_the_agreed_values() -> None:
    assert [a.value for a in ActionId] == [
        "case_ack",
        "case_resolve",
        "case_assign_me",
        "case_reopen",
        "cases_list_open",
        "case_show",
        "action_reopen",
        "action_show",
    ]
    assert [c.value for c in CallbackId] == ["case_resolve_modal", "case_reopen_modal"]


def test_input_block_ids_are_the_core_field_names() -> None:
    # The fields the core names in InvalidInput for resolve/reopen, read from its source.
    source = "".join(
        Path(m.__file__).read_text(encoding="utf-8")
        for m in (
            bot.cases.lifecycle,
            bot.cases.checks,
            bot.cases.actions,
            bot.cases.action_rules,
            bot.cases.action_model,
        )
    )
    fields = set(re.findall(r'field="(\w+)"', source)) | set(
        re.findall(r'required_text\(\s*[\w.]+,\s*"(\w+)"', source)
    )
    # The fields of the commands' own words (not modal inputs): a case or action id, a cause, a date.
    form_fields = fields - {"case", "note", "cause", "text", "live"}
    assert form_fields == {
        "outcome", "root_cause", "action", "rationale", "reason", "whys", "corrective", "attach",
        "owner", "due",
    }  # fmt: skip
    assert form_fields <= {b.value for b in BlockId}


def test_case_meta_round_trips_compactly() -> None:
    meta = CaseMeta(case_id=12, channel="C0DELIVERY")
    text = meta.dump()
    assert text == '{"case_id":12,"channel":"C0DELIVERY"}'
    assert CaseMeta.load(text) == meta
    assert CaseMeta(case_id=12).dump() == '{"case_id":12}'
    big = CaseMeta(case_id=10**18, channel="C" * 64).dump()
    assert len(big) <= 2000 and json.loads(big)["case_id"] == 10**18


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "",
        "12",
        "not json",
        '{"case_id": "x"}',
        '{"case_id": 0}',
        '{"case_id": 1, "extra": 2}',
        '{"channel": "C1"}',
    ],
)
def test_case_meta_refuses_garbage_with_a_user_facing_error(garbage: str | None) -> None:
    with pytest.raises(InvalidInput, match="older version of Loopbot.*`/feedback show FB-n`"):
        CaseMeta.load(garbage)


def test_case_meta_names_a_renamed_command() -> None:
    with pytest.raises(InvalidInput, match="`/cx show FB-n`"):
        CaseMeta.load("{", command="/cx")


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Etc/GMT-14"])
def test_the_earliest_storable_time_shows_in_every_zone(zone):
    # The API refuses anything earlier, so that no team's zone turns a stored time into year 0.
    from bot.feedback.schema import EARLIEST

    assert fmt_time(EARLIEST, ZoneInfo(zone)).endswith(
        {"Etc/GMT+12": "1 Jan 12:00 -12", "Etc/GMT-14": "2 Jan 14:00 +14"}[zone]
    )
