"""`privacy:` in the YAML (SPEC §11): per team or in defaults, open or team, one clear line otherwise."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from config.loader import ConfigError, load_config, parse_config
from tests.conftest import CONFIG

SOURCE = "config/loopbot.yaml"
ROOT = Path(__file__).resolve().parents[2]


def parsed(defaults: object = ..., **teams: object):  # noqa: ANN201
    data = copy.deepcopy(CONFIG)
    if defaults is not ...:
        data["defaults"]["privacy"] = defaults
    for team, value in teams.items():
        data["teams"][team]["privacy"] = value
    return parse_config(data, SOURCE)


def problems(defaults: object = ..., **teams: object) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parsed(defaults, **teams)
    return exc.value.errors


def test_open_by_default_per_team_and_inherited_from_defaults() -> None:
    assert {k: t.privacy for k, t in parsed().teams.items()} == {
        "delivery": "open",
        "support": "open",
    }
    assert {k: t.privacy for k, t in parsed(delivery="team").teams.items()} == {
        "delivery": "team",
        "support": "open",
    }
    inherited = parsed("team", support="open")
    assert {k: t.privacy for k, t in inherited.teams.items()} == {
        "delivery": "team",
        "support": "open",
    }
    # Left empty in the team (`privacy:`), the defaults' value holds.
    assert parsed("team", delivery=None).teams["delivery"].privacy == "team"


def test_privacy_secret_is_one_clear_line() -> None:
    assert problems(delivery="secret") == [
        f'{SOURCE}: teams.delivery.privacy: "secret" is not a privacy setting; write open '
        "(anyone may list and read the team's cases) or team (only its members, supervisors and "
        "leaders may see them)"
    ]


@pytest.mark.parametrize(
    ("value", "guess"),
    [("private", "team"), ("Team", "team"), ("teams", "team"), ("public", "open"), ("opn", "open")],
)
def test_near_misses_say_which_was_meant(value: str, guess: str) -> None:
    [line] = problems(value)
    assert line.startswith(f'{SOURCE}: defaults.privacy: "{value}" is not a privacy setting')
    assert f"(did you mean {guess}?)" in line


@pytest.mark.parametrize(
    ("value", "said"), [(True, "true/false (true)"), (3, "a number (3)"), ([1], "a list")]
)
def test_other_types_say_what_they_are(value: object, said: str) -> None:
    [line] = problems(support=value)
    assert line.startswith(f"{SOURCE}: teams.support.privacy: {said} is not a privacy setting;")


def test_the_shipped_example_stays_valid_and_shows_privacy() -> None:
    example = ROOT / "config" / "loopbot.example.yaml"
    assert "privacy: team" in example.read_text(encoding="utf-8")
    load_config(example)
