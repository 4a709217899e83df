"""SPC rules in the threshold cycle (SPEC §9): judged once per completed local day, and what their cases say."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.alerts import spc
from bot.alerts.spc_reads import (
    JUDGED_DAYS,
    RECENT_DAYS,
    daily_counts,
    last_complete_day,
    series_key,
)
from bot.charts.localtime import local_midnight
from config.fields import fmt_duration
from config.teams import Team, Threshold

# Where a value can be, to show limits inside it: % for CSAT and complaints per response, NPS, CES scores.
SCALE = {
    "csat": (0.0, 100.0),
    "complaints": (0.0, 100.0),
    "nps": (-100.0, 100.0),
    "ces": (1.0, 7.0),
}


@dataclass(frozen=True)
class SpcReading:
    """A rule at its latest judged day among the last RECENT_DAYS completed ones (None: no such day, and
    the rule says nothing: neither a signal nor a recovery). `signals`: those on the bad side, rule 1 first."""

    point: spc.Point | None
    signals: tuple[spc.Signal, ...]

    @property
    def readable(self) -> bool:
        return self.point is not None

    @property
    def breached(self) -> bool:
        return bool(self.signals)


def read_spc(
    s: Session, team: Team, rules: Sequence[Threshold], last: date
) -> dict[Threshold, SpcReading]:
    """Judge the team's SPC `rules` up to the local day `last`, all from one read of the daily counts."""
    if not rules:
        return {}
    daily = daily_counts(s, team, rules, last)
    readings = {}
    for rule in rules:
        counts = daily.counts[series_key(rule)]
        points = spc.judge(
            spc.KINDS[rule.metric],
            daily.first,
            counts,
            baseline_days=(rule.baseline or timedelta(0)).days,
            judge_from=len(counts) - JUDGED_DAYS,
            min_responses=rule.min_responses,
        )
        point = spc.latest(points)
        if point is None or point.day <= last - timedelta(days=RECENT_DAYS):
            readings[rule] = SpcReading(None, ())
        else:
            readings[rule] = SpcReading(point, spc.active(points, spc.BAD_SIDE[rule.metric]))
    return readings


class SpcJudge:
    """The SPC readings of each team, judged once per completed local day and kept until the next.

    A point is a completed day, so between midnights nothing changes but late responses to past days (an
    import of history, a survey tool's backlog): ingestion says so (`touched`) and the team is judged again.
    Reading 10 weeks of every team each minute, and after every ingestion of today's responses, would cost
    that read again and again for the same answer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # team -> (last day judged, readings, the end of that day: responses before it change the judgement)
        self._judged: dict[str, tuple[date, dict[Threshold, SpcReading], datetime]] = {}

    def touched(self, team_key: str, oldest: datetime) -> None:
        """Responses as old as `oldest` were stored for the team: a judgement covering that day is stale."""
        with self._lock:
            judged = self._judged.get(team_key)
            if judged is not None and oldest < judged[2]:
                del self._judged[team_key]

    def read(self, s: Session, team: Team, now: datetime) -> dict[Threshold, SpcReading]:
        rules = [rule for rule in team.thresholds if rule.is_spc]
        last = last_complete_day(team, now)
        with self._lock:
            judged = self._judged.get(team.key)
        if judged is not None and judged[0] == last:
            return judged[1]
        readings = read_spc(s, team, rules, last)
        with self._lock:
            self._judged[team.key] = (
                last,
                readings,
                local_midnight(last + timedelta(days=1), team.tz),
            )
        return readings


def spc_summary(rule: Threshold, reading: SpcReading, key: str) -> dict[str, Any]:
    """What the case message shows (bot.slack.blocks.describe.breach_text reads these keys): the first
    signal's rule and side, every signal's rule, and the latest judged day against its limits."""
    first = reading.signals[0]
    return {
        "metric": rule.metric,
        "category": rule.category,
        "rule": key,
        "spc": first.rule,
        "side": first.side,
        "signals": [s.rule for s in reading.signals],
        "baseline": fmt_duration(rule.baseline or timedelta(0)),
        **point_details(rule, reading),
    }


def point_details(rule: Threshold, reading: SpcReading) -> dict[str, Any]:
    """The latest judged day: its value, centre line, 3σ limits (inside the metric's scale) and n."""
    p = reading.point
    if p is None or p.value is None or p.centre is None:
        return {}
    low, high = SCALE[rule.metric]
    return {
        "day": p.day.isoformat(),
        "value": _round(p.value),
        "centre": _round(p.centre),
        "lower": _round(max(low, p.lower or low)),
        "upper": _round(min(high, p.upper or high)),
        "n": p.n,
    }


def spc_severity(reading: SpcReading) -> str:
    """A day beyond 3σ (rule 1) is high severity; a pattern of smaller shifts is medium."""
    return "high" if any(s.rule == 1 for s in reading.signals) else "medium"


def _round(value: float) -> float | int:
    rounded = round(value, 2)
    return int(rounded) if float(rounded).is_integer() else rounded
