"""Segment SLAs in the YAML (SPEC §9): inheritance, matching, and one exact line per mistake, also from check-config."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from config.fields import segment_key
from config.loader import parse_config
from config.teams import Defaults, Sla, Team
from tests.unit.config_cases import SOURCE, problems, spec_with, team

ROOT = Path(__file__).resolve().parents[2]
MIN, H, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
VIP = {"ack": "10m", "resolve": "4h"}
DELIVERY_SLA = Sla(ack=15 * MIN, resolve=DAY)  # SPEC §3's delivery team


def test_teams_inherit_the_defaults_segments_and_their_own_add_to_or_replace_them() -> None:
    data = spec_with(
        ("defaults.sla_by_segment", {"vip": VIP, "Gold": {"ack": "20m", "resolve": "8h"}}),
        ("teams.delivery.sla_by_segment", {"VIP": {"ack": "5m", "resolve": "2h"}, "smb": VIP}),
    )
    data["teams"]["support"] = team()
    data["teams"]["quiet"] = team("C0QUIET", sla_by_segment=None)  # left empty: inherited
    config = parse_config(data, SOURCE)
    vip, gold = Sla(ack=10 * MIN, resolve=4 * H), Sla(ack=20 * MIN, resolve=8 * H)
    assert config.defaults.sla_by_segment == {"vip": vip, "gold": gold}
    assert config.teams["support"].sla_by_segment == {"vip": vip, "gold": gold}
    assert config.teams["quiet"].sla_by_segment == {"vip": vip, "gold": gold}
    # delivery's "VIP" replaces the defaults' vip whole; gold is inherited; smb is its own.
    assert config.teams["delivery"].sla_by_segment == {
        "gold": gold,
        "vip": Sla(ack=5 * MIN, resolve=2 * H),
        "smb": vip,
    }


def test_a_case_takes_its_segments_sla_matched_whatever_the_case_else_the_teams() -> None:
    config = parse_config(spec_with(("teams.delivery.sla_by_segment", {"VIP": VIP})), SOURCE)
    delivery = config.teams["delivery"]
    vip = Sla(ack=10 * MIN, resolve=4 * H)
    assert [delivery.sla_for(s) for s in ("vip", "VIP", " Vip ")] == [vip, vip, vip]
    assert [delivery.sla_for(s) for s in (None, "", "  ", "smb", "vip customers")] == [
        DELIVERY_SLA
    ] * 5
    assert [segment_key(s) for s in ("VIP", " vip ", "", "  ", None)] == [
        "vip",
        "vip",
        None,
        None,
        None,
    ]


def test_no_segment_slas_by_default() -> None:
    config = parse_config(spec_with(), SOURCE)
    assert Defaults().sla_by_segment == config.teams["delivery"].sla_by_segment == {}
    assert config.teams["delivery"].sla_for("vip") == DELIVERY_SLA


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "defaults.sla_by_segment",
            {"vip": {"ack": "5h", "resolve": "4h"}},
            "defaults.sla_by_segment.vip: ack (5h) is longer than resolve (4h); "
            "the acknowledge deadline cannot come after the resolve deadline",
        ),
        (
            "teams.delivery.sla_by_segment",
            {"vip": {"ack": "10x", "resolve": "4h"}},
            'teams.delivery.sla_by_segment.vip.ack: "10x" is not a duration (use 30m, 4h, 2d, 1w)',
        ),
        (
            "teams.delivery.sla_by_segment",
            {"vip": {"ack": "10m"}},
            "teams.delivery.sla_by_segment.vip.resolve: is missing; a segment's SLA gives both "
            "ack and resolve, e.g. vip: {ack: 10m, resolve: 4h}",
        ),
        (
            "teams.delivery.sla_by_segment",
            {"vip": {"ack": "10m", "resolve": "4h", "escalate": "1h"}},
            "teams.delivery.sla_by_segment.vip.escalate: unknown key; "
            "the keys allowed here are ack, resolve",
        ),
        (
            "teams.delivery.sla_by_segment",
            {"vip": "10m"},
            'teams.delivery.sla_by_segment.vip: should be a mapping of keys, but is text ("10m")',
        ),
        (
            "defaults.sla_by_segment",
            ["vip"],
            "defaults.sla_by_segment: should be a mapping of keys, but is a list",
        ),
        (
            "teams.delivery.sla_by_segments",
            {"vip": VIP},
            "teams.delivery.sla_by_segments: unknown key (did you mean sla_by_segment?)",
        ),
        (
            "teams.delivery.sla_by_segment",
            {"vip": VIP, "VIP": VIP},
            'teams.delivery.sla_by_segment.VIP: "VIP" is the same segment as "vip": '
            "segment names match whatever their case, so keep one of them",
        ),
        (
            "defaults.sla_by_segment",
            {True: VIP},
            "defaults.sla_by_segment.True: YAML reads yes, no, on and off as true/false: "
            "put the segment name in quotes",
        ),
        (
            "teams.delivery.sla_by_segment",
            {3: VIP},
            "teams.delivery.sla_by_segment.3: should be a segment name in quotes, "
            "but is a number (3)",
        ),
        (
            "teams.delivery.sla_by_segment",
            {"": VIP},
            'teams.delivery.sla_by_segment.: "" cannot be a segment name: it is empty',
        ),
        (
            "teams.delivery.sla_by_segment",
            {"v" * 101: VIP},
            f"teams.delivery.sla_by_segment.{'v' * 101}: is longer than 100 characters, "
            "so no feedback's segment can match it",
        ),
    ],
)
def test_each_mistake_has_one_exact_line(path: str, value: object, expected: str) -> None:
    assert problems(spec_with((path, value))) == [f"{SOURCE}: {expected}"]


def test_every_mistake_of_one_map_is_reported_in_one_run() -> None:
    lines = problems(
        spec_with(
            (
                "teams.delivery.sla_by_segment",
                {"vip": {"ack": "1h", "resolve": "10m"}, "Vip": VIP, "gold": {"ack": 5}},
            )
        )
    )
    assert lines == [
        f"{SOURCE}: teams.delivery.sla_by_segment.vip: ack (1h) is longer than resolve (10m); "
        "the acknowledge deadline cannot come after the resolve deadline",
        f'{SOURCE}: teams.delivery.sla_by_segment.Vip: "Vip" is the same segment as "vip": '
        "segment names match whatever their case, so keep one of them",
        f'{SOURCE}: teams.delivery.sla_by_segment.gold.ack: "5" is not a duration (use 30m, 4h, 2d, 1w)',
        f"{SOURCE}: teams.delivery.sla_by_segment.gold.resolve: is missing; a segment's SLA gives "
        "both ack and resolve, e.g. vip: {ack: 10m, resolve: 4h}",
    ]


def test_the_model_alone_refuses_names_that_collide() -> None:
    with pytest.raises(ValidationError, match='"Vip" is the same segment as "vip"'):
        Team.model_validate(
            {
                **team(),
                "key": "support",
                "timezone": "UTC",
                "huddle": "0 9 * * *",
                "sla": VIP,
                "open_case_when": {},
                "sla_by_segment": {"vip": VIP, "Vip": VIP},
            }
        )


def test_check_config_prints_the_segment_sla_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "loopbot.yaml"
    path.write_text(
        yaml.safe_dump(
            spec_with(("defaults.sla_by_segment", {"vip": {"ack": "5h", "resolve": "4h"}}))
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
    assert f"{path}: defaults.sla_by_segment.vip: ack (5h) is longer than resolve (4h)" in (
        result.stderr
    )
