"""Threshold alerts (SPEC §6, §9): fixed rules read in SQL over their windows, SPC rules by day (spc_rules);
a breach opens one case, a recovery says so."""

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
from bot.alerts import silence_breaches as silences
from bot.alerts.spc_rules import SpcJudge, point_details, spc_severity, spc_summary
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
    """A rule's stable identity, e.g. delivery:csat:below:80:24h, or delivery:spc:csat:8w for an SPC rule
    (complaints add :category).

    min_responses is not part of it: raising it does not make an ongoing breach a new one.
    """
    if rule.is_spc:
        key = f"{team.key}:spc:{rule.metric}:{fmt_duration(rule.baseline or timedelta(0))}"
    else:
        window = fmt_duration(rule.window or timedelta(0))
        key = f"{team.key}:{rule.metric}:{rule.comparison}:{_number(rule.value)}:{window}"
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
        if rule.is_spc or rule.window is None:
            raise ValueError(
                f"{rule_key(self.team, rule)} is an SPC rule: bot.alerts.spc_rules reads it"
            )
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


@dataclass(frozen=True)
class Verdict:
    """One rule at this cycle, fixed or SPC alike: what it says, and what its case or recovery would show."""

    # Below min_responses (SPC: no judged day lately) a rule says nothing: neither breach nor recovery.
    readable: bool
    breached: bool
    severity: str
    summary: dict[str, Any]  # the new case's summary
    recovery: dict[str, Any]  # the `recovered` event's details


class Thresholds:
    """Evaluates every rule of every team; each team is one unit of work and fails alone."""

    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig, cases: Cases):
        self.sessions = sessions
        self.config = config
        self.cases = cases
        self.spc = SpcJudge()

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

    def verdicts(self, s: Session, team: Team, now: datetime) -> dict[str, Verdict]:
        """Every rule of the team by its rule_key: fixed rules over their windows, SPC rules by day."""
        reader = _Reader(s, team, now)
        found = {}
        for rule in team.thresholds:
            if not rule.is_spc:
                key, reading = rule_key(team, rule), reader.read(rule)
                found[key] = Verdict(
                    reading.readable,
                    reading.breached,
                    breach_severity(rule, reading) if reading.breached else "",
                    breach_summary(rule, reading, key) if reading.breached else {},
                    {"value": _rounded(reading), "n": reading.n, "threshold": _number(rule.value)},
                )
        for rule, spc in self.spc.read(s, team, now).items():
            key = rule_key(team, rule)
            found[key] = Verdict(
                spc.readable,
                spc.breached,
                spc_severity(spc) if spc.breached else "",
                spc_summary(rule, spc, key) if spc.breached else {},
                point_details(rule, spc),
            )
        return found

    def _team(self, team: Team, now: datetime, report: Report) -> None:
        # Read with a read-only unit: most minutes nothing changes, and then no write lock is taken at all.
        with self.cases.reads.begin() as s:
            verdicts = self.verdicts(s, team, now)
            breaches = set(
                s.scalars(select(Case.active_rule).where(Case.active_rule.in_(list(verdicts))))
            )
            silenced = silences.silenced_rules(s, team, now)  # rule key -> silence id
            quiet = silences.open_breaches(s, team) if silenced else set()
        # The one place that decides which breaches open a case: a silenced rule records its breach instead.
        to_open = [
            k for k, v in verdicts.items() if v.breached and k not in breaches and k not in silenced
        ]
        to_recover = [k for k in breaches if verdicts[k].readable and not verdicts[k].breached]
        to_note = [k for k in silenced if k in verdicts and verdicts[k].breached]
        to_calm = [
            k for k in quiet if k in verdicts and verdicts[k].readable and not verdicts[k].breached
        ]
        opened: list[Case] = []
        recovered: list[CaseChange] = []
        if to_open or to_recover or to_note or to_calm:
            with self.sessions.begin() as s:
                for key in to_note:
                    summary = verdicts[key].summary
                    silences.record_breach(
                        s,
                        silenced[key],
                        team,
                        key,
                        summary.get("value"),
                        summary.get("n") or 0,
                        now,
                    )
                silences.record_recovery(s, team, to_calm, now)
                # Read again under the write lock: another replica may have opened or recovered meanwhile.
                active = {
                    c.active_rule: c
                    for c in s.scalars(select(Case).where(Case.active_rule.in_(list(verdicts))))
                }
                for key in to_open:
                    if key in active:
                        continue
                    # While the breach lasts nothing more is posted: the case keeps the reading that opened it.
                    new = opening.open_threshold_case(
                        s,
                        self.config,
                        team=team.key,
                        rule_key=key,
                        severity=verdicts[key].severity,
                        summary=verdicts[key].summary,
                        source=SOURCE,
                        now=now,
                    )
                    if new is not None:  # None: a concurrent evaluation opened it first
                        opened.append(new)
                for key in to_recover:
                    case = active.get(key)
                    if case is None:
                        continue
                    change = timeline.recover(
                        s, team.channel, case, verdicts[key].recovery, source=SOURCE, now=now
                    )
                    if change is not None:
                        recovered.append(change)
        # Counted only once committed: a team whose unit failed reports nothing as done.
        report.rules += len(verdicts)
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
        "window": fmt_duration(rule.window or timedelta(0)),
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
