"""How people write a silence: RULE patterns against a team's fixed and SPC rules, durations, ids."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot.alerts.silence_model import (
    Pattern,
    matching,
    parse_pattern,
    parse_silence_duration,
    parse_silence_ref,
    rule_label,
    rule_name,
    rules_of,
)
from bot.errors import InvalidInput
from config.teams import Threshold
from tests.unit.test_blocks_kit import delivery

CSAT = Threshold(metric="csat", below=80, window=timedelta(hours=24))
CASES = Threshold(metric="cases", above=10, window=timedelta(hours=1))
LATE = Threshold(metric="complaints", category="late_delivery", above=5, window=timedelta(hours=1))
RUDE = Threshold(metric="complaints", category="rude_staff", above=3, window=timedelta(days=1))
# SPC rules as bot.alerts.spc sees them: `rule: spc`, a baseline, no threshold or window.
EIGHT_WEEKS = timedelta(weeks=8)
SPC_CSAT = SimpleNamespace(metric="csat", category=None, rule="spc", baseline=EIGHT_WEEKS)
SPC_LATE = SimpleNamespace(
    metric="complaints", category="late_delivery", rule="spc", baseline=EIGHT_WEEKS
)
RULES = [CSAT, CASES, LATE, RUDE, SPC_CSAT, SPC_LATE]


def team():  # noqa: ANN201
    return delivery().model_copy(update={"thresholds": RULES})


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("all", RULES),
        ("ALL", RULES),
        (" csat ", [CSAT, SPC_CSAT]),  # a metric names its fixed and its SPC rules
        ("cases", [CASES]),
        ("complaints", [LATE, RUDE, SPC_LATE]),
        ("complaints:late_delivery", [LATE, SPC_LATE]),
        ("Complaints:Rude_Staff", [RUDE]),
        ("spc", [SPC_CSAT, SPC_LATE]),
        ("spc:all", [SPC_CSAT, SPC_LATE]),
        ("spc:csat", [SPC_CSAT]),
        ("spc:complaints:late_delivery", [SPC_LATE]),
        ("spc:complaints", [SPC_LATE]),
        ("nps", []),
        ("spc:cases", []),
        ("spc:complaints:rude_staff", []),
    ],
)
def test_a_pattern_names_every_matching_rule(pattern: str, expected: list) -> None:
    assert rules_of(team(), pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    ["", "latency", "csat:late_delivery", "complaints:", "complaints:a:b", "spc:spc", "all:csat"],
)
def test_what_is_no_pattern_is_told_apart(pattern: str) -> None:
    assert parse_pattern(pattern) is None
    with pytest.raises(InvalidInput, match="is not a rule: write `all`, a metric"):
        matching(team(), pattern)


def test_parsed_patterns() -> None:
    assert parse_pattern("spc:complaints:x") == Pattern(spc=True, metric="complaints", category="x")
    assert parse_pattern("all") == Pattern()


def test_a_pattern_matching_nothing_is_refused_naming_the_teams_rules() -> None:
    with pytest.raises(InvalidInput) as refused:
        matching(team(), "nps")
    assert refused.value.field == "rule"
    assert refused.value.message == (
        "No rule of Delivery Ops matches `nps`. Its rules: `csat`, `cases`, "
        "`complaints:late_delivery`, `complaints:rude_staff`, `spc:csat`, "
        "`spc:complaints:late_delivery`, or `all`."
    )
    assert matching(team(), "spc:csat") == [SPC_CSAT]


def test_rules_are_named_and_labelled_as_people_write_them() -> None:
    assert [rule_name(r) for r in RULES] == [
        "csat",
        "cases",
        "complaints:late_delivery",
        "complaints:rude_staff",
        "spc:csat",
        "spc:complaints:late_delivery",
    ]
    assert [rule_label(r) for r in (CSAT, LATE, SPC_CSAT, SPC_LATE)] == [
        "csat below 80 over 1d",
        "complaints:late_delivery above 5 over 1h",
        "spc:csat (8w baseline)",
        "spc:complaints:late_delivery (8w baseline)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("4h", timedelta(hours=4)),
        (" 2D ", timedelta(days=2)),
        ("7d", timedelta(days=7)),
        ("1w", timedelta(days=7)),
        (timedelta(hours=3), timedelta(hours=3)),
    ],
)
def test_durations_are_written_like_the_configs(text, expected) -> None:  # noqa: ANN001
    assert parse_silence_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("8d", "A silence lasts at most 7d; `8d` is longer."),
        (timedelta(days=7, minutes=1), "at most 7d; `10081m` is longer"),
        ("0h", "`0h` is not a duration: write 90m, 4h or 2d, at most 7d."),
        ("-2h", "`-2h` is not a duration"),
        ("4 hours", "`4 hours` is not a duration"),
        ("", "`` is not a duration"),
        (timedelta(minutes=-5), "A silence needs a duration after now"),
    ],
)
def test_durations_out_of_bounds_are_refused(text, words: str) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput) as refused:
        parse_silence_duration(text)
    assert words in refused.value.message and refused.value.field == "duration"


@pytest.mark.parametrize(("text", "expected"), [("S-3", 3), ("s-12", 12), (" 7 ", 7), (4, 4)])
def test_silence_ids(text, expected: int) -> None:  # noqa: ANN001
    assert parse_silence_ref(text) == expected


@pytest.mark.parametrize("text", ["S-", "CA-3", "FB-3", "three", ""])
def test_what_is_no_silence_id_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not a silence id; write it like S-3"):
        parse_silence_ref(text)
