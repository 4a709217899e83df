"""The YAML configuration: SPEC §3 and the example load, teams inherit defaults, every mistake gets its own line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from config.loader import load_config, parse_config
from config.teams import LoopbotConfig, OpenCaseWhen, Sla, Threshold
from tests.unit.config_cases import EXAMPLE, SOURCE, SPEC_YAML, spec_with, team

# --- what loads -------------------------------------------------------------------------------------------


def test_the_spec_yaml_loads_as_written(tmp_path: Path) -> None:
    (tmp_path / "loopbot.yaml").write_text(SPEC_YAML, encoding="utf-8")
    config = load_config(tmp_path / "loopbot.yaml")
    assert config == parse_config(yaml.safe_load(SPEC_YAML), "x.yaml")
    delivery = config.teams["delivery"]
    assert (
        delivery.key,
        delivery.name,
        delivery.channel,
        delivery.supervisors,
        delivery.members,
    ) == ("delivery", "Delivery Ops", "C0DELIVERY", ["U0SUPER1"], [])
    assert delivery.tz == ZoneInfo("America/New_York")
    assert delivery.huddle.expr == "30 7 * * mon-sat"
    assert delivery.sla == Sla(ack=timedelta(minutes=15), resolve=timedelta(days=1))
    assert delivery.open_case_when == OpenCaseWhen(csat_at_most=2, nps_at_most=6, ces_at_least=5)
    assert [
        (t.metric, t.comparison, t.value, t.window, t.min_responses, t.category)
        for t in delivery.thresholds
    ] == [
        ("csat", "below", 80, timedelta(hours=24), 20, None),
        ("nps", "below", 20, timedelta(days=7), 30, None),
        ("ces", "above", 4.5, timedelta(hours=24), 20, None),
        ("cases", "above", 10, timedelta(hours=1), 10, None),
        ("complaints", "above", 5, timedelta(hours=1), 10, "late_delivery"),
    ]
    assert config.leaders == ["U0LEADER1"] and config.leaders_channel == "C0LEADERS"
    assert config.weekly_summary is not None and config.weekly_summary.expr == "0 9 * * mon"
    assert list(config.categories) == ["late_delivery", "rude_staff", "app_error"]
    assert config.categories["late_delivery"].keywords == ["late", "delay", "never arrived"]
    assert config.categories["rude_staff"].domain == "people"
    assert config.routing == {"post-delivery": "delivery"} and config.retention_days == 730


def test_the_example_file_loads_and_keeps_the_spec_delivery_team() -> None:
    config = load_config(EXAMPLE)
    assert (
        config.teams["delivery"] == parse_config(yaml.safe_load(SPEC_YAML), "x").teams["delivery"]
    )
    support = config.teams["support"]
    assert (support.channel, support.timezone, support.huddle.expr) == (
        "C0SUPPORT",
        "Europe/London",
        "0 9 * * mon-fri",
    )
    assert support.members and support.supervisors and support.thresholds
    assert support.sla == Sla(ack=timedelta(hours=1), resolve=timedelta(days=2))
    assert config.route(None, "help-center") is support
    assert "anyone may act as a member" in EXAMPLE.read_text(encoding="utf-8")


def test_a_minimal_file_gets_the_built_in_defaults() -> None:
    config = parse_config(
        {"teams": {"ops": {"channel": "C0OPS", "supervisors": ["U0BOSS"]}}}, SOURCE
    )
    ops = config.teams["ops"]
    assert (ops.name, ops.timezone, ops.huddle.expr, ops.members, ops.thresholds) == (
        "ops",
        "UTC",
        "0 9 * * mon-fri",
        [],
        [],
    )
    assert ops.sla == Sla(ack=timedelta(minutes=30), resolve=timedelta(days=2))
    assert ops.open_case_when == OpenCaseWhen(csat_at_most=2, nps_at_most=6, ces_at_least=5)
    assert (config.leaders, config.leaders_channel, config.weekly_summary) == ([], None, None)
    assert (config.categories, config.routing, config.retention_days) == ({}, {}, 730)


def test_teams_inherit_defaults_and_merge_sla_and_open_case_when_key_by_key() -> None:
    rule = {"metric": "csat", "below": 70, "window": "1d"}
    config = parse_config(
        {
            "defaults": {
                "timezone": "Europe/Paris",
                "huddle": "0 8 * * *",
                "sla": {"resolve": "3d"},
                "open_case_when": {"nps_at_most": 4},
                "thresholds": [rule],
            },
            "teams": {
                "plain": team("C0PLAIN"),
                "own": team(
                    "C0OWN",
                    timezone="Asia/Tokyo",
                    huddle="0 10 * * mon",
                    sla={"ack": "15m"},
                    open_case_when={"csat_at_most": 1},
                    thresholds=[{**rule, "below": 90}],
                ),
                "quiet": team("C0QUIET", thresholds=[], timezone=None, sla=None),
            },
        },
        SOURCE,
    )
    plain, own, quiet = config.teams["plain"], config.teams["own"], config.teams["quiet"]
    assert (plain.timezone, plain.huddle.expr) == ("Europe/Paris", "0 8 * * *")
    assert plain.sla == Sla(
        ack=timedelta(minutes=30), resolve=timedelta(days=3)
    )  # built-in ack, default resolve
    assert plain.open_case_when == OpenCaseWhen(csat_at_most=2, nps_at_most=4, ces_at_least=5)
    assert [t.value for t in plain.thresholds] == [70]
    assert (own.timezone, own.huddle.expr) == ("Asia/Tokyo", "0 10 * * mon")
    assert own.sla == Sla(ack=timedelta(minutes=15), resolve=timedelta(days=3))
    assert own.open_case_when == OpenCaseWhen(csat_at_most=1, nps_at_most=4, ces_at_least=5)
    assert [t.value for t in own.thresholds] == [90]
    assert quiet.thresholds == []  # an explicit empty list turns the default rules off
    assert (quiet.timezone, quiet.sla) == (
        "Europe/Paris",
        plain.sla,
    )  # an empty key means "inherit"
    assert config.defaults.sla == Sla(ack=timedelta(minutes=30), resolve=timedelta(days=3))


@pytest.fixture
def two_teams() -> LoopbotConfig:
    data = spec_with(("teams.support", team()), ("routing.chat", "support"))
    return parse_config(data, SOURCE)


@pytest.mark.parametrize(
    ("team_key", "touchpoint", "expected"),
    [
        ("delivery", None, "delivery"),
        ("support", "post-delivery", "support"),  # the team key wins over the touchpoint's route
        (None, "post-delivery", "delivery"),
        (None, "chat", "support"),
        ("", "chat", "support"),
        ("nosuch", "post-delivery", None),  # an unknown team is not silently re-routed
        (None, "nosuch", None),
        (None, None, None),
    ],
)
def test_route(
    two_teams: LoopbotConfig, team_key: str | None, touchpoint: str | None, expected: str | None
) -> None:
    routed = two_teams.route(team_key, touchpoint)
    assert (routed.key if routed else None) == expected


def test_team_for_channel(two_teams: LoopbotConfig) -> None:
    assert two_teams.team_for_channel("C0SUPPORT") is two_teams.teams["support"]
    assert two_teams.team_for_channel("C0DELIVERY") is two_teams.teams["delivery"]
    assert two_teams.team_for_channel("C0LEADERS") is None


def test_models_are_frozen_and_dump_durations_and_crons_as_written() -> None:
    config = parse_config(yaml.safe_load(SPEC_YAML), SOURCE)
    with pytest.raises(ValidationError):
        config.teams["delivery"].channel = "C0OTHER"  # type: ignore[misc]
    dumped = config.model_dump(mode="json")["teams"]["delivery"]
    assert (dumped["sla"], dumped["huddle"], dumped["thresholds"][1]["window"]) == (
        {"ack": "15m", "resolve": "1d"},
        "30 7 * * mon-sat",
        "1w",
    )


def test_a_threshold_built_in_code_is_checked_as_well() -> None:
    assert Threshold(metric="ces", above=4.5, window="24h").value == 4.5
    with pytest.raises(ValidationError, match="csat thresholds use below, not above"):
        Threshold(metric="csat", above=80, window="24h")
    with pytest.raises(ValidationError, match="ack \\(2d\\) is longer than resolve \\(1d\\)"):
        Sla(ack="2d", resolve="1d")
