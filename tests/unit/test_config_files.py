"""Config problems as a whole and in files: suggestions, every problem at once, no secrets echoed, file-level errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.loader import ConfigError, load_config
from tests.unit.config_cases import DELETE, SOURCE, problems, spec_with, team
from tests.unit.test_config_errors import CHANNEL_HELP, CSAT_FIRES, USER_HELP


def test_a_misspelt_key_is_caught_with_a_suggestion() -> None:
    data = spec_with(
        ("teams.delivery.supervisor", ["U0SUPER1"]), ("teams.delivery.supervisors", DELETE)
    )
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
        (
            "teams.delivery.thresholds[0]",
            {"metric": "csat", "above": 80, "window": "2x", "min_responses": 0},
        ),
        ("teams.delivery.thresholds[4].category", "lat_delivery"),
        ("teams.support", team("C0DELIVERY", timezone="London")),
        ("routing.post-delivery", "deliveri"),
        ("retention_days", -1),
    )
    assert problems(data) == [
        f"{SOURCE}: {line}"
        for line in [
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
        ]
    ]


def test_messages_speak_to_admins_and_never_echo_a_token() -> None:
    data = spec_with(
        ("teams.delivery.channel", "xoxb-1234-5678-abcdefSECRET"),
        ("leaders", "U0LEADER1"),
        ("teams.delivery.thresholds", {"metric": "csat"}),
        ("categories.app_error.domain", None),
        ("teams.delivery.open_case_when", [1]),
        ("weekly_summary", {"cron": "0 9 * * mon"}),
    )
    lines = problems(data)
    assert len(lines) == 6
    assert (
        lines[2]
        == f'{SOURCE}: teams.delivery.channel: "xoxb-…" is not a Slack channel id: {CHANNEL_HELP}'
    )
    for line in lines:
        assert re.fullmatch(r"config/loopbot\.yaml: [a-z_.\[\]0-9]+: [^\n]+", line), line
        assert not re.search(
            r"Input should|Value error|Field required|Extra inputs|pydantic|https?://", line
        ), line
        assert "SECRET" not in line and "1234" not in line


def test_a_config_needs_teams_and_routes_only_to_configured_ones() -> None:
    assert problems(spec_with(("teams", None))) == [
        f"{SOURCE}: teams: needs at least one team",
        f'{SOURCE}: routing.post-delivery: "delivery" is not a configured team; no teams are configured',
    ]
    assert problems(spec_with(("teams", DELETE), ("routing", None))) == [
        f"{SOURCE}: teams: is missing; configure at least one team under teams:"
    ]


def test_the_top_level_must_be_a_mapping() -> None:
    assert problems(["teams"]) == [
        f"{SOURCE}: the top level should be a mapping of keys "
        "(defaults, teams, categories, ...), but is a list"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "teams:\n  delivery:\n    name: x\n   channel: C0X\n",
            "line 4, column 4: YAML syntax error: expected <block end>, but found '<block mapping start>'",
        ),
        (
            "teams: {delivery: {channel: C0A}\n",
            "line 2, column 1: YAML syntax error: expected ',' or '}', but got '<stream end>'",
        ),
        (
            "teams:\n  a: {channel: C0A, supervisors: [U0A]}\n  a: {channel: C0B, supervisors: [U0B]}\n",
            'line 3, column 3: the key "a" appears twice in the same mapping; YAML would silently keep only the last one',
        ),
        (
            "teams:\n  a: {channel: C0A, supervisors: [U0A], huddle: */5 * * * *}\n",
            "line 2, column 50: YAML syntax error: expected alphabetic or numeric character, but found '/'; "
            'a value starting with * must be quoted, e.g. huddle: "*/30 9-17 * * *"',
        ),
        ("", "the file is empty; start from config/loopbot.example.yaml"),
        (
            "42\n",
            "the top level should be a mapping of keys (defaults, teams, categories, ...), but is a number (42)",
        ),
    ],
)
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
    assert exc.value.errors == [
        f"{missing}: file not found; copy config/loopbot.example.yaml there, "
        "or point LOOPBOT_CONFIG at your config file"
    ]
    (tmp_path / "latin1.yaml").write_bytes("teams: {caf\xe9: {}}".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.yaml: is not UTF-8 text$"):
        load_config(tmp_path / "latin1.yaml")
    with pytest.raises(ConfigError, match=r": cannot be read \(Is a directory\)$"):
        load_config(tmp_path)


def test_yaml_merge_keys_still_work_and_are_not_taken_for_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "loopbot.yaml"
    path.write_text(
        "defaults: &d {timezone: Europe/Paris}\nteams:\n  a:\n    <<: {channel: C0A, supervisors: [U0A]}\n"
        "    channel: C0B\n",
        encoding="utf-8",
    )
    assert load_config(path).teams["a"].channel == "C0B"
