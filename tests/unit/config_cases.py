"""Shared material of the config tests: the SPEC §3 YAML and builders of broken variants."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loader import ConfigError, parse_config

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
        *parents, last = [
            int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)
        ]
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
