"""A hostile or broken YAML (alias bombs, deep nesting, values YAML cannot build) is one short line, fast."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from config.loader import MAX_DEPTH, MAX_VALUES, ConfigError, load_config
from config.settings import SettingsError, load_settings
from tests.conftest import CONFIG

ROOT = Path(__file__).resolve().parents[2]


def refused(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.errors


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loopbot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def alias_bomb(levels: int = 9) -> str:
    """About 1 KB that stands for 9**levels strings: each list repeats the previous one nine times."""
    lines = ["x0: &x0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for n in range(1, levels):
        lines.append(f"x{n}: &x{n} [" + ", ".join([f"*x{n - 1}"] * 9) + "]")
    config = yaml.safe_dump(CONFIG).replace("name: Delivery Ops", f"name: *x{levels - 1}")
    return "\n".join(lines) + "\n" + config


def test_an_alias_bomb_is_one_line_from_check_config_within_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, alias_bomb())
    assert len(path.read_bytes()) < 2000
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "loopbot", "check-config"],
        env={"PATH": "/usr/bin:/bin", "LOOPBOT_CONFIG": str(path), "DATABASE_URL": "sqlite://"},
        capture_output=True,
        text=True,
        timeout=30,  # before the fix: 85 s and 3 GiB, expanding the value into an error message
        cwd=ROOT,
    )
    assert time.monotonic() - started < 15
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"{path}: line 6, column 5: uses YAML aliases that expand to more than "
        f"{MAX_VALUES:,} values; write the values out instead of repeating them through aliases"
    ]


def test_an_alias_bomb_is_refused_before_it_is_built(tmp_path: Path) -> None:
    started = time.monotonic()
    [line] = refused(write(tmp_path, alias_bomb(levels=30)))  # 9**30 values: never built at all
    assert "expand to more than" in line
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("teams: " + "[" * 20_000 + "]" * 20_000, "line 1, column 57"),
        ("teams: " + "{a: " * 20_000 + "x" + "}" * 20_000, "line 1, column 204"),
    ],
    ids=["lists", "mappings"],
)  # the document is level 1, so the 50th bracket is level 51
def test_deep_nesting_is_one_line_not_a_recursion_error(
    tmp_path: Path, text: str, where: str
) -> None:
    path = write(tmp_path, text + "\n")
    assert refused(path) == [f"{path}: {where}: nested deeper than {MAX_DEPTH} levels"]


def test_nesting_up_to_the_limit_is_read_and_validated_as_usual(tmp_path: Path) -> None:
    # The document is level 1 and teams' value level 2: the innermost list is at MAX_DEPTH exactly.
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    path = write(tmp_path, f"teams: {inner}\n")
    assert refused(path) == [f"{path}: teams: should be a mapping of keys, but is a list"]
    deeper = write(tmp_path, f"teams: [{inner}]\n")
    assert refused(deeper) == [
        f"{deeper}: line 1, column 57: nested deeper than {MAX_DEPTH} levels"
    ]


def test_a_config_sharing_blocks_through_anchors_and_aliases_loads(tmp_path: Path) -> None:
    text = """
defaults: {timezone: UTC, sla: &fast {ack: 15m, resolve: 1d}}
leaders: &leaders [U0LEADER1]
leaders_channel: C0LEADERS
teams:
  delivery: &team
    name: Delivery Ops
    channel: C0DELIVERY
    supervisors: *leaders
    sla: *fast
    thresholds: &rules
      - {metric: csat, below: 80, window: 24h, min_responses: 20}
  support:
    <<: *team
    name: Support
    channel: C0SUPPORT
    thresholds: *rules
"""
    config = load_config(write(tmp_path, text))
    delivery, support = config.teams["delivery"], config.teams["support"]
    assert support.sla == delivery.sla == config.defaults.sla
    assert support.supervisors == delivery.supervisors == ["U0LEADER1"]
    assert support.thresholds == delivery.thresholds
    assert len(support.thresholds) == 1
    assert support.channel == "C0SUPPORT"


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "teams: &t {delivery: *t}\n")
    assert refused(path) == [
        f"{path}: line 1, column 22: the alias *t is inside the very block it names, "
        "so the value would contain itself; write the values out"
    ]


def test_a_file_of_more_values_than_any_config_is_refused_without_naming_aliases(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "leaders: [" + ",".join(["U0"] * MAX_VALUES) + "]\n")
    [line] = refused(path)
    assert line.startswith(f"{path}: line 1, column ")
    assert line.endswith(f"has more than {MAX_VALUES:,} values; is this the Loopbot config?")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("9" * 5000, "cannot be read as a number"),
        ("2024-13-45", "cannot be read as a date"),
        ('!!float "abc"', "cannot be read as a number"),
    ],
    ids=["a 5,000-digit number", "a date with month 13", "a float tag on text"],
)
def test_a_value_yaml_cannot_build_is_one_line_naming_where(
    tmp_path: Path, value: str, problem: str
) -> None:
    path = write(tmp_path, f"leaders: [U0LEADER1]\nretention_days: {value}\n")
    [line] = refused(path)
    assert line.startswith(f"{path}: line 2, column 17: ")
    assert problem in line
    assert "put it in quotes" in line
    assert len(line) < 300


LONG = "k" * 100_000  # a plain key stops at 1,024 characters; one after "? " does not


@pytest.mark.parametrize(
    "text",
    [
        f"teams:\n  ? {LONG}\n  : 1\n",  # a key quoted in the key path
        f"teams:\n  delivery:\n    ? {LONG}\n    : 1\n",  # ... with the keys allowed there
        f"teams:\n  ? {LONG}\n  : 1\n  ? {LONG}\n  : 2\n",  # a key written twice
        f"teams: *{LONG}\n",  # an undefined alias, quoted by PyYAML
        "teams: {delivery: {name: [" + ", ".join(["x" * 50] * 5000) + "]}}\n",  # a long list
        # A long value quoted whole: a set, which the messages do not name as they name a list.
        "teams: {delivery: {name: !!set {" + ", ".join(f"x{i}" for i in range(5000)) + "}}}\n",
    ],
    ids=[
        "long key",
        "long key in a team",
        "long key twice",
        "undefined long alias",
        "long list",
        "long set",
    ],
)
def test_every_error_line_stays_short_whatever_the_file_holds(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    errors = refused(path)
    assert errors
    assert max(len(line) - len(str(path)) for line in errors) < 450, [e[:200] for e in errors]


def test_an_environment_value_is_never_quoted_at_length(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "ftp://" + "x" * 100_000)
    monkeypatch.setenv("LOOPBOT_LOG_FORMAT", "y" * 100_000)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert len(caught.value.errors) == 2
    assert all(len(line) < 300 for line in caught.value.errors), caught.value.errors
