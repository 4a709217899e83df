"""The YAML `sources:` section (SPEC §10): accepted as written, every problem at its key path."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config.loader import ConfigError, parse_config
from config.settings import Settings, webhook_warnings
from tests.conftest import CONFIG

ROOT = Path(__file__).resolve().parents[2]

# SPEC §10's example, verbatim.
SPEC_SOURCES = """
sources:                          # the secret of each comes from LOOPBOT_WEBHOOK_SECRET_<TOOL>
  typeform:
    forms:
      Ab12Cd:                     # form id
        metric: nps
        score: nps_question       # field ref of the score answer
        comment: why              # field ref of a text answer (optional)
        team: delivery            # or touchpoint: post-delivery, or team: hidden.team
        customer: hidden.customer_id   # optional, a hidden field
        segment: hidden.segment        # optional
  delighted: {team: support}      # metric from the survey type (nps, csat, ces)
  zendesk: {team: support, good: 5, bad: 1}   # csat values of Zendesk's good / bad
  intercom: {team: support}       # csat 1–5
"""


def parse(sources: object):  # noqa: ANN201
    return parse_config({**CONFIG, "sources": sources}, "loopbot.yaml")


def problems(sources: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(sources)
    return caught.value.errors


def test_the_spec_example_is_accepted_as_written():
    config = parse(yaml.safe_load(SPEC_SOURCES)["sources"])
    form = config.sources.typeform.forms["Ab12Cd"]
    assert (form.metric, form.score, form.comment, form.team) == (
        "nps",
        "nps_question",
        "why",
        "delivery",
    )
    assert (form.customer, form.segment) == ("hidden.customer_id", "hidden.segment")
    assert config.sources.delighted.team == "support"
    assert (config.sources.zendesk.good, config.sources.zendesk.bad) == (5, 1)
    assert config.sources.configured() == ["typeform", "delighted", "zendesk", "intercom"]


def test_no_sources_section_means_no_webhooks_configured():
    assert parse_config(CONFIG, "loopbot.yaml").sources.configured() == []
    assert parse(None).sources.configured() == []


def test_the_shipped_example_config_loads():
    from config.loader import load_config

    assert load_config(ROOT / "config" / "loopbot.example.yaml").teams


def test_the_shipped_example_documents_a_sources_section_that_parses():
    text = (ROOT / "config" / "loopbot.example.yaml").read_text(encoding="utf-8")
    block = re.search(r"^# sources:.*?(?=^[^#]|\Z)", text, re.M | re.S)
    assert block, "config/loopbot.example.yaml has no commented sources: example"
    uncommented = "\n".join(line.removeprefix("# ") for line in block.group(0).splitlines())
    example = yaml.safe_load(uncommented)["sources"]
    teams = {
        key: {"name": key, "channel": f"C0{key.upper()[:6]}", "supervisors": ["U0SUPER1"]}
        for key in ("delivery", "support")
    }
    config = parse_config(
        {"teams": teams, "routing": {"post-delivery": "delivery"}, "sources": example}, "x"
    )
    assert config.sources.configured()


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (
            {"typeform": {"forms": {"Ab12Cd": {"metric": "nps", "score": "q", "team": "nowhere"}}}},
            'loopbot.yaml: sources.typeform.forms.Ab12Cd.team: "nowhere" is not a configured team',
        ),
        (
            {
                "typeform": {
                    "forms": {"Ab12Cd": {"metric": "nps", "score": "q", "team": "hiden.team"}}
                }
            },
            'sources.typeform.forms.Ab12Cd.team: "hiden.team" is not a Typeform field Loopbot reads: '
            "write hidden.<name>",
        ),
        (
            {"typeform": {"forms": {123456: {"metric": "nps", "score": "q", "team": "support"}}}},
            "sources.typeform.forms.123456: a form id is text, but YAML read a number (123456): "
            "put it in quotes",
        ),
        ({"typeform": {"forms": {}}}, "sources.typeform.forms: needs at least one form"),
        ({"typeform": {}}, "sources.typeform.forms: is missing"),
        ({"delighted": {}}, "sources.delighted: needs team or touchpoint"),
        (
            {"intercom": {"team": "support", "touchpoint": "chat"}},
            "sources.intercom: gives both team and touchpoint",
        ),
        (
            {"delighted": {"touchpoint": "lobby"}},
            'sources.delighted.touchpoint: "lobby" is not routed to a team',
        ),
        (
            {"zendesk": {"team": "support", "good": 6}},
            "sources.zendesk.good: 6 is outside the CSAT scale 1-5",
        ),
        (
            {"zendesk": {"team": "support", "good": 1, "bad": 2}},
            "sources.zendesk.good: good (1) must score above bad (2)",
        ),
        (
            {"zendesk": {"team": "support", "customer": "bob"}},
            'sources.zendesk.customer: "bob" would give every response the same customer',
        ),
        (
            {"intercom": {"teams": "support"}},
            "sources.intercom.teams: unknown key (did you mean team?)",
        ),
        (
            {"qualtrics": {"team": "support"}},
            "sources.qualtrics: unknown key; the keys allowed here are typeform, delighted, zendesk, intercom",
        ),
    ],
    ids=[
        "unknown-team",
        "unknown-prefix",
        "numeric-form-id",
        "no-forms",
        "forms-missing",
        "no-owner",
        "two-owners",
        "unrouted-touchpoint",
        "good-off-scale",
        "good-below-bad",
        "constant-customer",
        "misspelt-key",
        "unknown-tool",
    ],
)
def test_each_problem_names_the_file_and_key_path(sources, expected):
    assert any(expected in line for line in problems(sources)), problems(sources)


def test_every_problem_of_the_section_is_reported_in_one_run():
    lines = problems(
        {
            "typeform": {"forms": {"F1": {"metric": "nsp", "score": "q"}}},
            "zendesk": {"team": "nowhere", "colour": "red"},
        }
    )
    assert [line.split(": ")[1] for line in lines] == [
        "sources.typeform.forms.F1",
        "sources.typeform.forms.F1.metric",
        "sources.zendesk.team",
        "sources.zendesk.colour",
    ]


def test_check_config_warns_for_each_configured_source_without_its_secret():
    config = parse(yaml.safe_load(SPEC_SOURCES)["sources"])
    settings = Settings(
        LOOPBOT_WEBHOOK_SECRET_TYPEFORM="t0ps3cret", LOOPBOT_WEBHOOK_SECRET_ZENDESK="  "
    )
    lines = webhook_warnings(settings, config.sources)
    assert [line.split(" ")[0] for line in lines] == [
        "sources.delighted",
        "sources.zendesk",
        "sources.intercom",
    ]
    assert "LOOPBOT_WEBHOOK_SECRET_ZENDESK is not set" in lines[1]
    assert "/api/webhooks/zendesk answers 503" in lines[1]
    assert not any("t0ps3cret" in line for line in lines)


def test_check_config_prints_the_warning_and_still_passes(tmp_path: Path) -> None:
    path = tmp_path / "loopbot.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "sources": {"zendesk": {"team": "support"}}}))
    env = {
        "PATH": "/usr/bin:/bin",
        "LOOPBOT_CONFIG": str(path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "loopbot", "check-config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "warning: sources.zendesk is configured but LOOPBOT_WEBHOOK_SECRET_ZENDESK is not set"
        in result.stderr
    )
