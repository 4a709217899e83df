"""SPC rules in the YAML (SPEC §9): what is accepted, the defaults, and one exact line per mistake, also from
`loopbot check-config`."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.alerts.thresholds import rule_key
from config.loader import parse_config
from config.teams import Threshold
from tests.unit.config_cases import SOURCE, problems, spec_with

ROOT = Path(__file__).resolve().parents[2]
RULE = "teams.delivery.thresholds[0]"


def with_rule(**rule: object) -> dict:
    return spec_with((RULE, rule))


def test_spc_rules_are_accepted_with_an_8_week_baseline_by_default() -> None:
    config = parse_config(
        spec_with(
            (RULE, {"metric": "csat", "rule": "spc"}),
            ("teams.delivery.thresholds[1]", {"metric": "nps", "rule": "spc", "baseline": "4w"}),
            (
                "teams.delivery.thresholds[4]",
                {"metric": "complaints", "rule": "spc", "category": "late_delivery"},
            ),
            ("teams.delivery.thresholds[2]", {"metric": "ces", "rule": "spc", "min_responses": 30}),
        ),
        SOURCE,
    )
    team = config.teams["delivery"]
    csat, nps, ces, cases, complaints = team.thresholds
    assert (csat.is_spc, csat.baseline, csat.min_responses, csat.window) == (
        True,
        timedelta(weeks=8),
        10,
        None,
    )
    assert nps.baseline == timedelta(weeks=4) and ces.min_responses == 30
    assert not cases.is_spc and cases.baseline is None  # fixed rules are untouched
    # An SPC rule's comparison is its bad side: CSAT and NPS below, CES and complaints above.
    assert [r.comparison for r in team.thresholds] == ["below", "below", "above", "above", "above"]
    assert [rule_key(team, r) for r in team.thresholds] == [
        "delivery:spc:csat:8w",
        "delivery:spc:nps:4w",
        "delivery:spc:ces:8w",
        "delivery:cases:above:10:1h",
        "delivery:spc:complaints:8w:late_delivery",
    ]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"metric": "csat", "rule": "spc", "below": 80},
            "below: an spc rule takes no below: its limits come from the baseline weeks; "
            "remove it, or remove rule: spc for a fixed threshold",
        ),
        (
            {"metric": "ces", "rule": "spc", "above": 4.5},
            "above: an spc rule takes no above: its limits come from the baseline weeks; "
            "remove it, or remove rule: spc for a fixed threshold",
        ),
        (
            {"metric": "csat", "rule": "spc", "window": "24h"},
            "window: an spc rule takes no window: it judges each local day against the baseline "
            "weeks before it; remove it (baseline: 8w sets how far back the limits look)",
        ),
        (
            {"metric": "cases", "rule": "spc"},
            "metric: cases is not an SPC metric: spc rules judge csat, nps, ces or complaints "
            "(per response); count cases with a fixed threshold, e.g. "
            "{metric: cases, above: 10, window: 1h}",
        ),
        (
            {"metric": "complaints", "rule": "spc"},
            "category: is missing; a complaints rule counts one category "
            "(configured: late_delivery, rude_staff, app_error)",
        ),
        (
            {"metric": "complaints", "rule": "spc", "category": "late"},
            'category: "late" is not a configured category (did you mean late_delivery?)',
        ),
        (
            {"metric": "nps", "rule": "spc", "category": "late_delivery"},
            "category: only complaints rules take a category; remove it, or use metric: complaints",
        ),
        (
            {"metric": "csat", "rule": "spc", "baseline": "10d"},
            "baseline: must be whole weeks, e.g. 8w, not 10d "
            "(limits come from the baseline's days: whole weeks, at least two)",
        ),
        (
            {"metric": "csat", "rule": "spc", "baseline": "1w"},
            "baseline: must be at least 2w, not 1w "
            "(limits come from the baseline's days: whole weeks, at least two)",
        ),
        (
            {"metric": "csat", "below": 80, "window": "24h", "baseline": "8w"},
            "baseline: only spc rules take a baseline; add rule: spc, or remove it for a fixed "
            "threshold",
        ),
        (
            {"metric": "csat", "rule": "statistical"},
            'rule: "statistical" is not a kind of rule; write rule: spc for a statistical rule '
            "(daily points against limits from a baseline), or leave rule out for a fixed threshold",
        ),
        (
            {"metric": "csat", "below": 80},
            "window: is missing; say over which period the metric is computed, e.g. window: 24h",
        ),
    ],
)
def test_each_spc_mistake_has_one_exact_line(rule: dict, expected: str) -> None:
    assert problems(with_rule(**rule)) == [f"{SOURCE}: {RULE}.{expected}"]


def test_several_mistakes_in_one_rule_are_each_reported() -> None:
    found = problems(with_rule(metric="csat", rule="spc", below=80, window="24h", baseline="3d"))
    assert [line.split(": ")[1] for line in found] == [
        f"{RULE}.below",
        f"{RULE}.window",
        f"{RULE}.baseline",
    ]


def test_an_spc_rule_built_in_code_is_checked_as_well() -> None:
    assert Threshold(metric="nps", rule="spc").baseline == timedelta(weeks=8)
    with pytest.raises(ValidationError, match="an spc rule takes no window"):
        Threshold(metric="csat", rule="spc", window="24h")
    with pytest.raises(ValidationError, match="cases is not an SPC metric"):
        Threshold(metric="cases", rule="spc")


def test_check_config_prints_the_spc_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "loopbot.yaml"
    path.write_text(
        yaml.safe_dump(
            spec_with(
                (RULE, {"metric": "csat", "rule": "spc", "window": "24h"}),
                ("teams.delivery.thresholds[3]", {"metric": "cases", "rule": "spc"}),
            )
        )
    )
    env = {"LOOPBOT_CONFIG": str(path), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "loopbot", "check-config"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert any(
        line.startswith(f"{path}: {RULE}.window: an spc rule takes no window") for line in lines
    )
    assert any(
        line.startswith(f"{path}: teams.delivery.thresholds[3].metric: cases is not an SPC metric")
        for line in lines
    )
