"""The YAML configuration: SPEC §3 and the example load, teams inherit defaults, every mistake gets its own line."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from config.loader import ConfigError, load_config, parse_config
from config.teams import LoopbotConfig, OpenCaseWhen, Sla, Threshold

SOURCE = "config/loopbot.yaml"
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "loopbot.example.yaml"
DELETE = object()

# Copied from SPEC §3: this shape must be accepted as written.
SPEC_YAML = """\
defaults:                         # every team inherits these unless it overrides them
  timezone: UTC
  huddle: "0 9 * * mon-fri"       # 5-field cron, in the team's time zone
  sla: {ack: 30m, resolve: 2d}
  open_case_when: {csat_at_most: 2, nps_at_most: 6, ces_at_least: 5}
leaders: [U0LEADER1]              # Slack user ids with the leader role
leaders_channel: C0LEADERS        # escalations and the weekly summary go here
weekly_summary: "0 9 * * mon"     # cron in defaults.timezone
teams:
  delivery:                       # team key: used by ingestion, commands and charts
    name: Delivery Ops
    channel: C0DELIVERY           # channel id
    supervisors: [U0SUPER1]
    timezone: America/New_York
    huddle: "30 7 * * mon-sat"
    sla: {ack: 15m, resolve: 1d}
    thresholds:
      - {metric: csat, below: 80, window: 24h, min_responses: 20}
      - {metric: nps, below: 20, window: 7d, min_responses: 30}
      - {metric: ces, above: 4.5, window: 24h, min_responses: 20}
      - {metric: cases, above: 10, window: 1h}
      - {metric: complaints, category: late_delivery, above: 5, window: 1h}
categories:                       # complaint taxonomy; assigned from keywords at ingestion
  late_delivery: {domain: process, keywords: ["late", "delay", "never arrived"]}
  rude_staff: {domain: people, keywords: ["rude", "impolite"]}
  app_error: {domain: technology, keywords: ["crash", "error", "bug"]}
routing:                          # touchpoint -> team, used when a feedback names no team
  post-delivery: delivery
retention_days: 730               # feedback older than this is purged
"""


def spec_with(*changes: tuple[str, Any]) -> dict[str, Any]:
    """The SPEC's YAML with values set (or DELETEd) at key paths such as `teams.delivery.thresholds[2].window`."""
    data = yaml.safe_load(SPEC_YAML)
    for path, value in changes:
        *parents, last = [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
        node = data
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


def problems(data: object) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_config(data, SOURCE)
    assert str(exc.value) == "\n".join(exc.value.errors)
    return exc.value.errors


def team(channel: str = "C0SUPPORT", **extra: Any) -> dict[str, Any]:
    return {"name": "Support", "channel": channel, "supervisors": ["U0SUPER2"], **extra}


# --- what loads -------------------------------------------------------------------------------------------

def test_the_spec_yaml_loads_as_written(tmp_path: Path) -> None:
    (tmp_path / "loopbot.yaml").write_text(SPEC_YAML, encoding="utf-8")
    config = load_config(tmp_path / "loopbot.yaml")
    assert config == parse_config(yaml.safe_load(SPEC_YAML), "x.yaml")
    delivery = config.teams["delivery"]
    assert (delivery.key, delivery.name, delivery.channel, delivery.supervisors, delivery.members) == (
        "delivery", "Delivery Ops", "C0DELIVERY", ["U0SUPER1"], [])
    assert delivery.tz == ZoneInfo("America/New_York")
    assert delivery.huddle.expr == "30 7 * * mon-sat"
    assert delivery.sla == Sla(ack=timedelta(minutes=15), resolve=timedelta(days=1))
    assert delivery.open_case_when == OpenCaseWhen(csat_at_most=2, nps_at_most=6, ces_at_least=5)
    assert [(t.metric, t.comparison, t.value, t.window, t.min_responses, t.category) for t in delivery.thresholds] == [
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
    assert config.teams["delivery"] == parse_config(yaml.safe_load(SPEC_YAML), "x").teams["delivery"]
    support = config.teams["support"]
    assert (support.channel, support.timezone, support.huddle.expr) == ("C0SUPPORT", "Europe/London", "0 9 * * mon-fri")
    assert support.members and support.supervisors and support.thresholds
    assert support.sla == Sla(ack=timedelta(hours=1), resolve=timedelta(days=2))
    assert config.route(None, "help-center") is support
    assert "anyone may act as a member" in EXAMPLE.read_text(encoding="utf-8")


def test_a_minimal_file_gets_the_built_in_defaults() -> None:
    config = parse_config({"teams": {"ops": {"channel": "C0OPS", "supervisors": ["U0BOSS"]}}}, SOURCE)
    ops = config.teams["ops"]
    assert (ops.name, ops.timezone, ops.huddle.expr, ops.members, ops.thresholds) == (
        "ops", "UTC", "0 9 * * mon-fri", [], [])
    assert ops.sla == Sla(ack=timedelta(minutes=30), resolve=timedelta(days=2))
    assert ops.open_case_when == OpenCaseWhen(csat_at_most=2, nps_at_most=6, ces_at_least=5)
    assert (config.leaders, config.leaders_channel, config.weekly_summary) == ([], None, None)
    assert (config.categories, config.routing, config.retention_days) == ({}, {}, 730)


def test_teams_inherit_defaults_and_merge_sla_and_open_case_when_key_by_key() -> None:
    rule = {"metric": "csat", "below": 70, "window": "1d"}
    config = parse_config({
        "defaults": {"timezone": "Europe/Paris", "huddle": "0 8 * * *", "sla": {"resolve": "3d"},
                     "open_case_when": {"nps_at_most": 4}, "thresholds": [rule]},
        "teams": {
            "plain": team("C0PLAIN"),
            "own": team("C0OWN", timezone="Asia/Tokyo", huddle="0 10 * * mon", sla={"ack": "15m"},
                        open_case_when={"csat_at_most": 1}, thresholds=[{**rule, "below": 90}]),
            "quiet": team("C0QUIET", thresholds=[], timezone=None, sla=None),
        },
    }, SOURCE)
    plain, own, quiet = config.teams["plain"], config.teams["own"], config.teams["quiet"]
    assert (plain.timezone, plain.huddle.expr) == ("Europe/Paris", "0 8 * * *")
    assert plain.sla == Sla(ack=timedelta(minutes=30), resolve=timedelta(days=3))  # built-in ack, default resolve
    assert plain.open_case_when == OpenCaseWhen(csat_at_most=2, nps_at_most=4, ces_at_least=5)
    assert [t.value for t in plain.thresholds] == [70]
    assert (own.timezone, own.huddle.expr) == ("Asia/Tokyo", "0 10 * * mon")
    assert own.sla == Sla(ack=timedelta(minutes=15), resolve=timedelta(days=3))
    assert own.open_case_when == OpenCaseWhen(csat_at_most=1, nps_at_most=4, ces_at_least=5)
    assert [t.value for t in own.thresholds] == [90]
    assert quiet.thresholds == []  # an explicit empty list turns the default rules off
    assert (quiet.timezone, quiet.sla) == ("Europe/Paris", plain.sla)  # an empty key means "inherit"
    assert config.defaults.sla == Sla(ack=timedelta(minutes=30), resolve=timedelta(days=3))


@pytest.mark.parametrize(("metric", "score", "negative"), [
    ("csat", 1, True), ("csat", 2, True), ("csat", 3, False), ("csat", 5, False),
    ("nps", 0, True), ("nps", 6, True), ("nps", 7, False), ("nps", 10, False),
    ("ces", 7, True), ("ces", 5, True), ("ces", 4, False), ("ces", 1, False),
])
def test_is_negative_at_the_default_boundaries(metric: str, score: int, negative: bool) -> None:
    assert OpenCaseWhen().is_negative(metric, score) is negative


def test_is_negative_follows_configured_boundaries_and_refuses_unknown_metrics() -> None:
    strict = OpenCaseWhen(csat_at_most=3, nps_at_most=8, ces_at_least=3)
    assert [strict.is_negative("csat", s) for s in (3, 4)] == [True, False]
    assert [strict.is_negative("nps", s) for s in (8, 9)] == [True, False]
    assert [strict.is_negative("ces", s) for s in (2, 3)] == [False, True]
    with pytest.raises(ValueError, match="'cases' is not a survey metric"):
        strict.is_negative("cases", 1)


@pytest.fixture
def two_teams() -> LoopbotConfig:
    data = spec_with(("teams.support", team()), ("routing.chat", "support"))
    return parse_config(data, SOURCE)


@pytest.mark.parametrize(("team_key", "touchpoint", "expected"), [
    ("delivery", None, "delivery"),
    ("support", "post-delivery", "support"),  # the team key wins over the touchpoint's route
    (None, "post-delivery", "delivery"),
    (None, "chat", "support"),
    ("", "chat", "support"),
    ("nosuch", "post-delivery", None),  # an unknown team is not silently re-routed
    (None, "nosuch", None),
    (None, None, None),
])
def test_route(two_teams: LoopbotConfig, team_key: str | None, touchpoint: str | None, expected: str | None) -> None:
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
        {"ack": "15m", "resolve": "1d"}, "30 7 * * mon-sat", "1w")


def test_a_threshold_built_in_code_is_checked_as_well() -> None:
    assert Threshold(metric="ces", above=4.5, window="24h").value == 4.5
    with pytest.raises(ValidationError, match="csat thresholds use below, not above"):
        Threshold(metric="csat", above=80, window="24h")
    with pytest.raises(ValidationError, match="ack \\(2d\\) is longer than resolve \\(1d\\)"):
        Sla(ack="2d", resolve="1d")


# --- every check, with its exact line ---------------------------------------------------------------------

CHANNEL_HELP = ("channel ids look like C0123ABCD (in Slack, open the channel's details: "
                "the Channel ID is at the bottom of the About tab)")
USER_HELP = "user ids look like U0123ABCD (in Slack, open the person's profile, click ⋮ More, then Copy member ID)"
KEY_RULE = "use lowercase letters, digits, - and _, starting with a letter (it is typed in Slack commands)"
CSAT_FIRES = "an alert fires when CSAT (the % of 4-5 scores, 0-100) falls below it"
WINDOW = {"window": "1h"}


@pytest.mark.parametrize(("path", "value", "expected"), [
    # durations
    ("teams.delivery.thresholds[2].window", "24x",
     'teams.delivery.thresholds[2].window: "24x" is not a duration (use 30m, 4h, 2d, 1w)'),
    ("teams.delivery.sla.ack", 15, 'teams.delivery.sla.ack: "15" is not a duration (use 30m, 4h, 2d, 1w)'),
    ("defaults.sla.resolve", ["2d"], "defaults.sla.resolve: should be a duration (use 30m, 4h, 2d, 1w), but is a list"),
    ("defaults.sla", {"ack": "3d"}, "defaults.sla: ack (3d) is longer than resolve (2d); "
                                    "the acknowledge deadline cannot come after the resolve deadline"),
    # crons
    ("teams.delivery.huddle", "0 9 * *", 'teams.delivery.huddle: "0 9 * *" has 4 fields; a cron needs 5 '
                                         '(minute hour day month weekday), e.g. "0 9 * * mon-fri"'),
    ("defaults.huddle", "0 9 * * mon-fry", 'defaults.huddle: "0 9 * * mon-fry": weekday "fry" is not a number 0-7 '
                                           "(0 and 7 are Sunday) or a name mon-sun"),
    ("weekly_summary", "61 9 * * mon", 'weekly_summary: "61 9 * * mon": minute 61 is out of range 0-59'),
    ("teams.delivery.huddle", 930, 'teams.delivery.huddle: should be a cron expression in quotes such as '
                                   '"0 9 * * mon-fri", but is a number (930)'),
    # time zones
    ("teams.delivery.timezone", "Paris", 'teams.delivery.timezone: "Paris" is not an IANA time zone (did you mean '
                                         "Europe/Paris?); use a name such as Europe/Paris or America/New_York"),
    ("teams.delivery.timezone", "america/new_york", 'teams.delivery.timezone: "america/new_york" is not an IANA time '
     "zone (did you mean America/New_York?); use a name such as Europe/Paris or America/New_York"),
    ("defaults.timezone", "CEST", 'defaults.timezone: "CEST" is not an IANA time zone; '
                                  "use a name such as Europe/Paris or America/New_York"),
    # thresholds
    ("teams.delivery.thresholds[0].metric", "csta", 'teams.delivery.thresholds[0].metric: "csta" is not one of '
                                                    "csat, nps, ces, cases, complaints (did you mean csat?)"),
    ("teams.delivery.thresholds[0]", {"metric": "csat", "above": 80, **WINDOW},
     f"teams.delivery.thresholds[0].above: csat thresholds use below, not above: {CSAT_FIRES}"),
    ("teams.delivery.thresholds[0]", {"metric": "csat", "below": 80, "above": 90, **WINDOW},
     f"teams.delivery.thresholds[0]: gives both below and above; a csat threshold takes only below ({CSAT_FIRES})"),
    ("teams.delivery.thresholds[3]", {"metric": "cases", **WINDOW}, "teams.delivery.thresholds[3]: needs above: "
     "a cases alert fires when more cases than this open within the window"),
    ("teams.delivery.thresholds[2]", {"metric": "ces", "below": 3, **WINDOW}, "teams.delivery.thresholds[2].below: "
     "ces thresholds use above, not below: an alert fires when the mean CES score (1-7) rises above it"),
    ("teams.delivery.thresholds[0].below", 101, "teams.delivery.thresholds[0].below: "
                                                "must be between 0 and 100 for csat, not 101"),
    ("teams.delivery.thresholds[1].below", -101, "teams.delivery.thresholds[1].below: "
                                                 "must be between -100 and 100 for nps, not -101"),
    ("teams.delivery.thresholds[2].above", 0.5, "teams.delivery.thresholds[2].above: "
                                                "must be between 1 and 7 for ces, not 0.5"),
    ("teams.delivery.thresholds[3].above", -1,
     "teams.delivery.thresholds[3].above: must be 0 or more for cases, not -1"),
    ("teams.delivery.thresholds[0].below", "80%", 'teams.delivery.thresholds[0].below: should be a number, '
                                                  'but is text ("80%")'),
    ("teams.delivery.thresholds[4].category", DELETE, "teams.delivery.thresholds[4].category: is missing; a complaints "
     "threshold counts one category (configured: late_delivery, rude_staff, app_error)"),
    ("teams.delivery.thresholds[4].category", "late", 'teams.delivery.thresholds[4].category: "late" is not a '
     "configured category (did you mean late_delivery?)"),
    ("teams.delivery.thresholds[4].category", "billing", 'teams.delivery.thresholds[4].category: "billing" is not a '
     "configured category; configured categories: late_delivery, rude_staff, app_error"),
    ("teams.delivery.thresholds[3].category", "late_delivery", "teams.delivery.thresholds[3].category: only "
     "complaints thresholds take a category; remove it, or use metric: complaints"),
    ("teams.delivery.thresholds[0].min_responses", 0, "teams.delivery.thresholds[0].min_responses: must be 1 or more, "
     "not 0 (a rule fires only once its window holds this many responses)"),
    ("teams.delivery.thresholds[0].window", DELETE, "teams.delivery.thresholds[0].window: is missing; "
     "say over which period the metric is computed, e.g. window: 24h"),
    # Slack ids
    ("teams.delivery.channel", "#delivery", f'teams.delivery.channel: "#delivery" is not a Slack channel id: '
                                            f"{CHANNEL_HELP}"),
    ("leaders_channel", "c0leaders", f'leaders_channel: "c0leaders" is not a Slack channel id: {CHANNEL_HELP}'),
    ("leaders", ["U0LEADER1", "@boss"], f'leaders[1]: "@boss" is not a Slack user id: {USER_HELP}'),
    ("teams.delivery.supervisors", ["Alice"], f'teams.delivery.supervisors[0]: "Alice" is not a Slack user id: '
                                              f"{USER_HELP}"),
    ("teams.delivery.members", ["U0AGENT1", 42], f"teams.delivery.members[1]: 42 is not a Slack user id: {USER_HELP}"),
    ("teams.delivery.supervisors", [], "teams.delivery.supervisors: needs at least one supervisor: "
                                       "they resolve cases and get escalations"),
    ("teams.delivery.channel", DELETE, "teams.delivery.channel: is missing; every team needs the id of its Slack "
                                       "channel, e.g. channel: C0123ABCD"),
    ("teams.support", team("C0DELIVERY"), "teams.support.channel: C0DELIVERY is already the channel of team delivery; "
                                          "each team needs a channel of its own"),
    # open_case_when
    ("teams.delivery.open_case_when", {"csat_at_most": 6}, "teams.delivery.open_case_when.csat_at_most: "
                                                           "6 is outside the CSAT scale 1-5"),
    ("defaults.open_case_when.nps_at_most", 11,
     "defaults.open_case_when.nps_at_most: 11 is outside the NPS scale 0-10"),
    ("defaults.open_case_when.ces_at_least", 0, "defaults.open_case_when.ces_at_least: 0 is outside the CES scale 1-7"),
    ("defaults.open_case_when.csat_at_most", 2.5, "defaults.open_case_when.csat_at_most: should be a whole number, "
                                                  "but is a number (2.5)"),
    # keys
    ("teams.Support", team(), f'teams.Support: "Support" is not a valid team key: {KEY_RULE}'),
    ("teams.all", team(), 'teams.all: "all" cannot be a team key: /feedback list and stats read it as a filter word'),
    ("teams.delivery.key", "ops", "teams.delivery.key: unknown key: a team's key is its name under teams:, "
                                  "so remove this line"),
    ("categories.Late Delivery", {"domain": "process", "keywords": ["slow"]},
     f'categories.Late Delivery: "Late Delivery" is not a valid category key: {KEY_RULE}'),
    ("categories.other", {"domain": "process", "keywords": ["slow"]},
     'categories.other: "other" cannot be a category key: it is always offered as a root cause'),
    # categories, routing, retention
    ("categories.rude_staff.keywords", [], "categories.rude_staff.keywords: needs at least one keyword: "
                                           "comments containing it get this category"),
    ("categories.rude_staff.keywords", ["rude", " "], "categories.rude_staff.keywords[1]: cannot be empty"),
    ("categories.rude_staff", "people", 'categories.rude_staff: should be a mapping of keys, but is text ("people")'),
    ("routing.post-delivery", "deliveri", 'routing.post-delivery: "deliveri" is not a configured team '
                                          "(did you mean delivery?)"),
    ("routing.chat", "support", 'routing.chat: "support" is not a configured team; configured teams: delivery'),
    ("retention_days", 0, "retention_days: must be 1 or more, not 0 (feedback older than this many days is purged)"),
    ("retention_days", "2 years", 'retention_days: should be a whole number, but is text ("2 years")'),
    # unknown keys, shapes, relations
    ("retension_days", 365, "retension_days: unknown key (did you mean retention_days?)"),
    ("teams.delivery.sla.ak", "5m", "teams.delivery.sla.ak: unknown key (did you mean ack?)"),
    ("teams.delivery.thresholds[0].value", 80, "teams.delivery.thresholds[0].value: unknown key; the keys allowed "
                                               "here are metric, below, above, window, min_responses, category"),
    ("defaults.channel", "C0X", "defaults.channel: unknown key; the keys allowed here are timezone, huddle, sla, "
                                "open_case_when, thresholds"),
    ("teams.delivery", ["C0DELIVERY"], "teams.delivery: should be a mapping of team settings (name, channel, ...), "
                                       "but is a list"),
    ("teams.delivery.name", 2024, "teams.delivery.name: should be text, but is a number (2024)"),
    ("leaders_channel", DELETE, "weekly_summary: needs leaders_channel: the weekly summary is posted there"),
])
def test_each_problem_has_one_exact_line(path: str, value: object, expected: str) -> None:
    assert problems(spec_with((path, value))) == [f"{SOURCE}: {expected}"]


def test_a_misspelt_key_is_caught_with_a_suggestion() -> None:
    data = spec_with(("teams.delivery.supervisor", ["U0SUPER1"]), ("teams.delivery.supervisors", DELETE))
    assert problems(data) == [
        f"{SOURCE}: teams.delivery.supervisor: unknown key (did you mean supervisors?)",
        f"{SOURCE}: teams.delivery.supervisors: is missing; list who resolves this team's cases, "
        "e.g. supervisors: [U0123ABCD]",
    ]


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    data = spec_with(
        ("defaults.huddle", "0 9 * *"),
        ("leaders", ["boss"]),
        ("teams.delivery.supervisor", ["U0SUPER1"]),
        ("teams.delivery.sla.ack", "15x"),
        ("teams.delivery.thresholds[0]", {"metric": "csat", "above": 80, "window": "2x", "min_responses": 0}),
        ("teams.delivery.thresholds[4].category", "lat_delivery"),
        ("teams.support", team("C0DELIVERY", timezone="London")),
        ("routing.post-delivery", "deliveri"),
        ("retention_days", -1),
    )
    assert problems(data) == [f"{SOURCE}: {line}" for line in [
        'defaults.huddle: "0 9 * *" has 4 fields; a cron needs 5 (minute hour day month weekday), '
        'e.g. "0 9 * * mon-fri"',
        f'leaders[0]: "boss" is not a Slack user id: {USER_HELP}',
        'teams.delivery.sla.ack: "15x" is not a duration (use 30m, 4h, 2d, 1w)',
        f"teams.delivery.thresholds[0].above: csat thresholds use below, not above: {CSAT_FIRES}",
        'teams.delivery.thresholds[0].window: "2x" is not a duration (use 30m, 4h, 2d, 1w)',
        "teams.delivery.thresholds[0].min_responses: must be 1 or more, not 0 "
        "(a rule fires only once its window holds this many responses)",
        'teams.delivery.thresholds[4].category: "lat_delivery" is not a configured category '
        "(did you mean late_delivery?)",
        "teams.delivery.supervisor: unknown key (did you mean supervisors?)",
        "teams.support.channel: C0DELIVERY is already the channel of team delivery; "
        "each team needs a channel of its own",
        'teams.support.timezone: "London" is not an IANA time zone (did you mean Europe/London?); '
        "use a name such as Europe/Paris or America/New_York",
        'routing.post-delivery: "deliveri" is not a configured team (did you mean delivery?)',
        "retention_days: must be 1 or more, not -1 (feedback older than this many days is purged)",
    ]]


def test_messages_speak_to_admins_and_never_echo_a_token() -> None:
    data = spec_with(("teams.delivery.channel", "xoxb-1234-5678-abcdefSECRET"), ("leaders", "U0LEADER1"),
                     ("teams.delivery.thresholds", {"metric": "csat"}), ("categories.app_error.domain", None),
                     ("teams.delivery.open_case_when", [1]), ("weekly_summary", {"cron": "0 9 * * mon"}))
    lines = problems(data)
    assert len(lines) == 6
    assert lines[2] == f'{SOURCE}: teams.delivery.channel: "xoxb-…" is not a Slack channel id: {CHANNEL_HELP}'
    for line in lines:
        assert re.fullmatch(r"config/loopbot\.yaml: [a-z_.\[\]0-9]+: [^\n]+", line), line
        assert not re.search(r"Input should|Value error|Field required|Extra inputs|pydantic|https?://", line), line
        assert "SECRET" not in line and "1234" not in line


def test_a_config_needs_teams_and_routes_only_to_configured_ones() -> None:
    assert problems(spec_with(("teams", None))) == [
        f"{SOURCE}: teams: needs at least one team",
        f'{SOURCE}: routing.post-delivery: "delivery" is not a configured team; no teams are configured',
    ]
    assert problems(spec_with(("teams", DELETE), ("routing", None))) == [
        f"{SOURCE}: teams: is missing; configure at least one team under teams:"]


def test_the_top_level_must_be_a_mapping() -> None:
    assert problems(["teams"]) == [f"{SOURCE}: the top level should be a mapping of keys "
                                   "(defaults, teams, categories, ...), but is a list"]


@pytest.mark.parametrize(("text", "expected"), [
    ("teams:\n  delivery:\n    name: x\n   channel: C0X\n",
     "line 4, column 4: YAML syntax error: expected <block end>, but found '<block mapping start>'"),
    ("teams: {delivery: {channel: C0A}\n",
     "line 2, column 1: YAML syntax error: expected ',' or '}', but got '<stream end>'"),
    ("teams:\n  a: {channel: C0A, supervisors: [U0A]}\n  a: {channel: C0B, supervisors: [U0B]}\n",
     'line 3, column 3: the key "a" appears twice in the same mapping; YAML would silently keep only the last one'),
    ("teams:\n  a: {channel: C0A, supervisors: [U0A], huddle: */5 * * * *}\n",
     "line 2, column 50: YAML syntax error: expected alphabetic or numeric character, but found '/'; "
     'a value starting with * must be quoted, e.g. huddle: "*/30 9-17 * * *"'),
    ("", "the file is empty; start from config/loopbot.example.yaml"),
    ("42\n", "the top level should be a mapping of keys (defaults, teams, categories, ...), but is a number (42)"),
])
def test_file_level_problems_are_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "loopbot.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert exc.value.errors == [f"{path}: {expected}"]


def test_unreadable_files_are_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as exc:
        load_config(str(missing))
    assert exc.value.errors == [f"{missing}: file not found; copy config/loopbot.example.yaml there, "
                                "or point LOOPBOT_CONFIG at your config file"]
    (tmp_path / "latin1.yaml").write_bytes("teams: {caf\xe9: {}}".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.yaml: is not UTF-8 text$"):
        load_config(tmp_path / "latin1.yaml")
    with pytest.raises(ConfigError, match=r": cannot be read \(Is a directory\)$"):
        load_config(tmp_path)


def test_yaml_merge_keys_still_work_and_are_not_taken_for_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "loopbot.yaml"
    path.write_text("defaults: &d {timezone: Europe/Paris}\nteams:\n  a:\n    <<: {channel: C0A, supervisors: [U0A]}\n"
                    "    channel: C0B\n", encoding="utf-8")
    assert load_config(path).teams["a"].channel == "C0B"
