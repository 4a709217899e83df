"""Threshold alerts (SPEC §6): each rule read in SQL over its window; a breach opens one case, a recovery says so."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import scores
from bot.cases import opening, timeline
from bot.cases.lifecycle import Cases
from bot.cases.model import CaseChange
from bot.reports.queries import Headline, headlines
from config.fields import fmt_duration
from config.teams import LoopbotConfig, Team, Threshold
from storage.models import Case, Feedback

log = logging.getLogger("loopbot.thresholds")

SOURCE = "job"
KEY_LIMIT = 200  # cases.rule_key / active_rule are VARCHAR(200)
# How far past its threshold a breach is "high" severity: points of CSAT / NPS, CES score units.
# A count (cases, complaints) is high at twice its threshold.
FAR = {"csat": 10.0, "nps": 20.0, "ces": 1.0}


@dataclass(frozen=True)
class Reading:
    """A rule's metric over its window. `readable`: the window holds at least min_responses responses."""

    value: float | None
    n: int
    readable: bool
    breached: bool


@dataclass
class Report:
    """What one evaluation cycle did; a team that failed is named with its error, the others went on."""

    rules: int = 0  # rules read
    opened: list[Case] = field(default_factory=list)
    recovered: list[Case] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # team key -> error


def rule_key(team: Team, rule: Threshold) -> str:
    """A rule's stable identity, e.g. delivery:csat:below:80:24h (complaints add :category).

    min_responses is not part of it: raising it does not make an ongoing breach a new one.
    """
    key = f"{team.key}:{rule.metric}:{rule.comparison}:{_number(rule.value)}:{fmt_duration(rule.window)}"
    if rule.category is not None:
        key += f":{rule.category}"
    if len(key) > KEY_LIMIT:  # long team keys or categories: still unique, still fits the column
        key = key[: KEY_LIMIT - 17] + ":" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return key


def read(s: Session, team: Team, rule: Threshold, now: datetime) -> Reading:
    """The rule's value and n over [now - window, now), and whether it is breached."""
    return _Reader(s, team, now).read(rule)


class _Reader:
    """Reads a team's rules at one instant; rules sharing a window share one pass over the feedback index."""

    def __init__(self, s: Session, team: Team, now: datetime):
        self.s, self.team, self.now = s, team, now
        self._headlines: dict[timedelta, Headline] = {}

    def read(self, rule: Threshold) -> Reading:
        since = self.now - rule.window
        head = self._headline(rule.window)
        responses = head.csat_n + head.nps_n + head.ces_n
        value: float | None
        if rule.metric in scores.METRICS:
            value, n = getattr(head, rule.metric), getattr(head, f"{rule.metric}_n")
        elif rule.metric == "cases":
            value, n = self._cases(since), responses
        elif rule.metric == "complaints":
            if not rule.category:
                raise ValueError(
                    f"the complaints rule {rule_key(self.team, rule)} names no category"
                )
            value, n = self._complaints(rule.category, since), responses
        else:
            raise ValueError(f"unknown threshold metric {rule.metric!r}")
        # Below min_responses the rule says nothing: neither a breach nor a recovery.
        readable = value is not None and n >= rule.min_responses
        breached = readable and (
            value < rule.value if rule.comparison == "below" else value > rule.value
        )
        return Reading(value, n, readable, bool(breached))

    def _headline(self, window: timedelta) -> Headline:
        if window not in self._headlines:
            self._headlines[window] = headlines(
                self.s, teams=[self.team.key], since=self.now - window, until=self.now
            )[0]
        return self._headlines[window]

    def _cases(self, since: datetime) -> int:
        # Feedback cases only: a threshold case counting towards a cases rule would feed itself.
        return (
            self.s.scalar(
                select(func.count())
                .select_from(Case)
                .where(
                    Case.team == self.team.key,
                    Case.opened_at >= since,
                    Case.opened_at < self.now,
                    Case.kind == "feedback",
                )
            )
            or 0
        )

    def _complaints(self, category: str, since: datetime) -> int:
        """Negative responses of the category, negative by the team's own limits (OpenCaseWhen)."""
        negative = scores.negative_any(self.team.open_case_when)
        return (
            self.s.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(
                    Feedback.team == self.team.key,
                    Feedback.category == category,
                    Feedback.submitted_at >= since,
                    Feedback.submitted_at < self.now,
                    negative,
                )
            )
            or 0
        )


class Thresholds:
    """Evaluates every rule of every team; each team is one unit of work and fails alone."""

    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig, cases: Cases):
        self.sessions = sessions
        self.config = config
        self.cases = cases

    def evaluate(self, now: datetime, teams: Iterable[str] | None = None) -> Report:
        """Run every minute and after each ingestion (for the teams it touched); safe to run concurrently."""
        report = Report()
        for key in list(self.config.teams) if teams is None else list(dict.fromkeys(teams)):
            try:
                team = self.config.teams.get(key)
                if team is None:
                    raise LookupError(f"team {key!r} is not configured")
                if team.thresholds:
                    self._team(team, now, report)
            except Exception as exc:
                log.exception("threshold evaluation failed for team %s", key)
                report.failed[key] = f"{type(exc).__name__}: {exc}"
        return report

    def _team(self, team: Team, now: datetime, report: Report) -> None:
        rules = {rule_key(team, rule): rule for rule in team.thresholds}
        # Read with a read-only unit: most minutes nothing changes, and then no write lock is taken at all.
        with self.cases.reads.begin() as s:
            breaches = set(
                s.scalars(select(Case.active_rule).where(Case.active_rule.in_(list(rules))))
            )
            reader = _Reader(s, team, now)
            readings = {key: reader.read(rule) for key, rule in rules.items()}
        to_open = [k for k, r in readings.items() if r.breached and k not in breaches]
        to_recover = [k for k in breaches if readings[k].readable and not readings[k].breached]
        opened: list[Case] = []
        recovered: list[CaseChange] = []
        if to_open or to_recover:
            with self.sessions.begin() as s:
                # Read again under the write lock: another replica may have opened or recovered meanwhile.
                active = {
                    c.active_rule: c
                    for c in s.scalars(select(Case).where(Case.active_rule.in_(list(rules))))
                }
                for key in to_open:
                    if key in active:
                        continue
                    rule, reading = rules[key], readings[key]
                    # While the breach lasts nothing more is posted: the case keeps the reading that opened it.
                    new = opening.open_threshold_case(
                        s,
                        self.config,
                        team=team.key,
                        rule_key=key,
                        severity=breach_severity(rule, reading),
                        summary=breach_summary(rule, reading, key),
                        source=SOURCE,
                        now=now,
                    )
                    if new is not None:  # None: a concurrent evaluation opened it first
                        opened.append(new)
                for key in to_recover:
                    case, reading = active.get(key), readings[key]
                    if case is None:
                        continue
                    change = timeline.recover(
                        s,
                        team.channel,
                        case,
                        {
                            "value": _rounded(reading),
                            "n": reading.n,
                            "threshold": _number(rules[key].value),
                        },
                        source=SOURCE,
                        now=now,
                    )
                    if change is not None:
                        recovered.append(change)
        # Counted only once committed: a team whose unit failed reports nothing as done.
        report.rules += len(rules)
        report.opened += opened
        report.recovered += [c.case for c in recovered]
        for case in opened:
            log.info("threshold breach %s opened %s", case.rule_key, case.ref)
        for change in recovered:
            log.info("threshold breach %s recovered (%s)", change.case.rule_key, change.case.ref)


def breach_summary(rule: Threshold, reading: Reading, key: str) -> dict[str, Any]:
    """What the case message shows (bot.slack.blocks.describe.breach_text reads these keys)."""
    return {
        "metric": rule.metric,
        "category": rule.category,
        "comparison": rule.comparison,
        "threshold": _number(rule.value),
        "value": _rounded(reading),
        "window": fmt_duration(rule.window),
        "n": reading.n,
        "rule": key,
    }


def breach_severity(rule: Threshold, reading: Reading) -> str:
    """high when far past the threshold (FAR, or twice a count's threshold), else medium."""
    value = reading.value or 0
    gap = value - rule.value if rule.comparison == "above" else rule.value - value
    return "high" if gap >= FAR.get(rule.metric, max(rule.value, 1)) else "medium"


def _rounded(reading: Reading) -> float | int | None:
    return None if reading.value is None else _number(round(reading.value, 2))


def _number(value: float) -> float | int:
    """80 rather than 80.0 in keys and summaries; fractions stay as they are."""
    return int(value) if float(value).is_integer() else value
