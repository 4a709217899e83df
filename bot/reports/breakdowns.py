"""`/feedback stats … by=FIELD` (SPEC §9): responses, CSAT/NPS/CES, negatives and cases per group, counted in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import Session

from bot import scores
from bot.errors import InvalidInput
from config.teams import OpenCaseWhen, Team
from storage.models import Case, Feedback

BY_FIELDS = ("segment", "touchpoint", "category", "channel")
MAX_GROUPS = 8  # SPEC §9: at most 8 groups, the rest folded into "other"
# A group's rate needs as many responses of its metric as a threshold rule needs by default (SPEC §6,
# `min_responses: 10`): below it a rate swings on one answer, so only the n is shown.
MIN_RESPONSES = 10
_COLUMNS = {name: getattr(Feedback, name) for name in BY_FIELDS}


@dataclass(frozen=True)
class Group:
    """One group value's figures; a rate is None when its metric had fewer than MIN_RESPONSES responses.

    `value` None is the responses without one ("(none)"); `folded` > 0 marks the "other" row, which adds up
    that many group values beyond the largest MAX_GROUPS.
    """

    value: str | None
    responses: int = 0
    csat_n: int = 0
    satisfied: int = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0
    ces_n: int = 0
    ces_sum: int = 0
    negative: int = 0  # negative by each response's team's `open_case_when` (SPEC §2)
    cases: int = 0  # feedback cases opened in the period from responses of this group
    folded: int = 0

    @property
    def is_other(self) -> bool:
        return self.folded > 0

    @property
    def csat(self) -> float | None:
        return 100 * self.satisfied / self.csat_n if self.csat_n >= MIN_RESPONSES else None

    @property
    def nps(self) -> float | None:
        if self.nps_n < MIN_RESPONSES:
            return None
        return 100 * (self.promoters - self.detractors) / self.nps_n

    @property
    def ces(self) -> float | None:
        return self.ces_sum / self.ces_n if self.ces_n >= MIN_RESPONSES else None

    def __add__(self, other: Group) -> Group:
        return replace(self, **{f: getattr(self, f) + getattr(other, f) for f in _COUNTS})


_COUNTS = (
    "responses", "csat_n", "satisfied", "nps_n", "promoters", "detractors", "ces_n", "ces_sum",
    "negative", "cases",
)  # fmt: skip


@dataclass(frozen=True)
class Breakdown:
    by: str
    teams: tuple[str, ...]
    since: datetime
    until: datetime
    groups: tuple[Group, ...]  # the largest by responses first, then "other" when there are more
    total: Group  # every response of the teams in the period (value None, folded 0)

    @property
    def min_responses(self) -> int:
        return MIN_RESPONSES


def check_field(by: str) -> str:
    if by not in BY_FIELDS:
        fields = ", ".join(f"`{f}`" for f in BY_FIELDS)
        raise InvalidInput(
            f"`by={by}` is not a breakdown: write by= with one of {fields}.", field="by"
        )
    return by


def breakdown(
    s: Session,
    teams: Sequence[Team],
    by: str,
    since: datetime,
    until: datetime,
    *,
    wide: bool = False,
) -> Breakdown:
    """The groups of `by` over the responses of `teams` submitted in [since, until).

    One statement: a GROUP BY over the feedback rows of the period, and beside it, UNION ALL, a GROUP BY over
    the feedback cases opened in the period (cases(team, opened_at), each joined to its response by primary
    key) — cheaper than joining every response to cases, since only the negative ones have a case.

    `wide`: the teams hold most of the responses (say half the teams or more). The group's column is in no
    index, so every response of the period is read from the table; on SQLite one range on
    feedback(submitted_at) reads those rows in the order they were stored, where the (team, metric,
    submitted_at) index sweeps the same pages once per team and metric: 215 ms against 385 ms for 200k rows
    of 20 teams. SQLite's planner prefers the equality columns, so there they are written `team || ''`,
    which no index serves. For a few teams that index reads only their rows and wins.
    """
    column = _COLUMNS[check_field(by)]
    if since >= until:
        raise ValueError("since must be before until")
    keys = [t.key for t in teams]
    if not keys:
        return Breakdown(by, (), since, until, (), Group(None))
    team, metric = Feedback.team, Feedback.metric
    if wide and s.get_bind().dialect.name == "sqlite":
        team, metric = team.concat(""), metric.concat("")
    responses = (
        select(
            column.label("value"),
            Feedback.metric.label("metric"),
            func.count().label("n"),
            scores.count_satisfied().label("satisfied"),
            scores.count_promoters().label("promoters"),
            scores.count_detractors().label("detractors"),
            func.sum(Feedback.score).label("total"),
            func.sum(case((negative_by_team(teams), 1), else_=0)).label("negative"),
        )
        .where(
            team.in_(keys),
            metric.in_(scores.METRICS),
            Feedback.submitted_at >= since,
            Feedback.submitted_at < until,
        )
        .group_by(column, Feedback.metric)
    )
    opened = (
        # No metric marks the cases' rows; the response counts are 0 there (constants, not parameters).
        select(column, null(), func.count(), *[literal_column("0")] * 5)
        .select_from(Case)
        .join(Feedback, Feedback.id == Case.feedback_id)
        .where(Case.team.in_(keys), Case.opened_at >= since, Case.opened_at < until)
        .group_by(column)
    )
    rows = s.connection().execute(union_all(responses, opened)).all()
    groups = _fold(rows)
    total = sum(groups.values(), Group(None))
    return Breakdown(by, tuple(keys), since, until, top(groups.values()), total)


def top(groups: Iterable[Group], limit: int = MAX_GROUPS) -> tuple[Group, ...]:
    """The `limit` largest groups by responses (ties by value, "(none)" last), then one "other" for the rest."""
    ordered = sorted(groups, key=lambda g: (-g.responses, g.value is None, g.value or ""))
    if len(ordered) <= limit:
        return tuple(ordered)
    rest = ordered[limit:]
    other = sum(rest, Group(None, folded=len(rest)))
    return (*ordered[:limit], other)


def _fold(rows: Iterable[Any]) -> dict[str | None, Group]:
    """One Group per value from the per-(value, metric) rows and the per-value case counts."""
    found: dict[str | None, Group] = {}
    for value, metric, n, satisfied, promoters, detractors, total, negative in rows:
        if metric is None:
            add = Group(value, cases=n)
        elif metric == "csat":
            add = Group(value, responses=n, csat_n=n, satisfied=satisfied, negative=negative)
        elif metric == "nps":
            add = Group(
                value,
                responses=n,
                nps_n=n,
                promoters=promoters,
                detractors=detractors,
                negative=negative,
            )
        else:
            add = Group(value, responses=n, ces_n=n, ces_sum=total, negative=negative)
        found[value] = found[value] + add if value in found else add
    return found


def negative_by_team(teams: Sequence[Team]) -> ColumnElement[bool]:
    """Negative by each team's own limits; teams sharing limits (the usual case) share one branch."""
    branches: dict[tuple[int, int, int], tuple[OpenCaseWhen, list[str]]] = {}
    for t in teams:
        w = t.open_case_when
        limits = (w.csat_at_most, w.nps_at_most, w.ces_at_least)
        branches.setdefault(limits, (w, []))[1].append(t.key)
    if len(branches) == 1:
        [(when, _)] = branches.values()
        return scores.negative_any(when)
    return or_(
        *(
            and_(Feedback.team.in_(keys), scores.negative_any(when))
            for when, keys in branches.values()
        )
    )
