"""Read-only views for Slack surfaces: case lists, a user's cases, headline metrics — counted in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from bot import scores
from bot.cases import deadlines
from bot.cases.deadlines import TeamSla, sla_of
from bot.cases.timings import ACK_KINDS
from storage.models import UNRESOLVED, Case, CaseEvent, Feedback

ListFilter = Literal["open", "overdue", "mine", "all"]


@dataclass(frozen=True)
class CaseRow:
    """One line of a case list: enough to render it without loading the timeline."""

    id: int
    kind: str  # feedback | threshold
    team: str
    state: str  # open | acknowledged | resolved
    severity: str  # high | medium
    opened_at: datetime
    assignee: str | None
    summary: dict[
        str, Any
    ]  # Case.summary: metric, score, category, segment, … (threshold: rule values)
    acknowledged_at: datetime | None
    ack_due: datetime
    resolve_due: datetime

    @property
    def ref(self) -> str:
        return f"FB-{self.id}"

    def overdue(self, now: datetime) -> bool:
        """Past either deadline in its current state (SPEC §2)."""
        if self.state == "resolved":
            return False
        return (self.acknowledged_at is None and now > self.ack_due) or now > self.resolve_due


@dataclass(frozen=True)
class CaseList:
    rows: list[CaseRow]
    total: int  # all matches; rows holds at most the limit asked for


@dataclass(frozen=True)
class Headline:
    """A team's survey metrics over a window; None when there were no responses of that metric."""

    team: str
    csat: float | None = None
    csat_n: int = 0
    nps: float | None = None
    nps_n: int = 0
    ces: float | None = None
    ces_n: int = 0


@dataclass(frozen=True)
class HomeData:
    user: str
    assigned: list[CaseRow]  # open or acknowledged cases assigned to the user
    team_open: list[CaseRow]  # open/acknowledged cases of the user's teams, oldest first
    headlines: list[Headline] = field(default_factory=list)


HEADLINE_WINDOW = timedelta(days=7)  # App Home shows the last week
_ACK_KINDS = tuple(sorted(ACK_KINDS))


def list_cases(
    s: Session,
    *,
    teams: Mapping[str, TeamSla],
    filter: ListFilter,
    user: str | None,
    now: datetime,
    limit: int = 20,
) -> CaseList:
    """Cases of `teams`: open and overdue oldest first (most urgent on top), all newest first. Deadlines
    follow each case's segment when `teams` maps to Team (bot.cases.deadlines)."""
    if not teams:
        return CaseList([], 0)
    if filter == "mine" and not user:
        raise ValueError("the mine filter needs a user")
    if filter not in _LISTS and filter != "overdue":
        raise ValueError(f"unknown filter {filter!r}")
    if limit < 1:
        raise ValueError("a list shows at least one case")
    params = {"teams": list(teams), "user": user, "limit": limit}
    conn = s.connection()  # plain rows: the ORM's layer would cost a third more
    # Deadlines differ per team, so the overdue statement is built per call; the others are built once.
    statement = (
        _LISTS[filter]
        if filter != "overdue"
        else _rows_statement([_TEAM_IN, UNRESOLVED, _overdue(teams, now)], newest_first=False)
    )
    rows = conn.execute(statement, params).all()
    # Every row carries the count of all matches; no row means no match (the limit is at least 1).
    return CaseList([_row(r, teams) for r in rows], rows[0].total if rows else 0)


def home_data(
    s: Session,
    *,
    user: str,
    teams: Mapping[str, TeamSla],
    now: datetime,
    limit: int = 10,
    all_teams: Mapping[str, TeamSla] | None = None,
) -> HomeData:
    """App Home: the user's open cases (in any of `all_teams`, default `teams`), their teams' open cases and headlines."""
    assigned = list_cases(
        s,
        teams=all_teams if all_teams is not None else teams,
        filter="mine",
        user=user,
        now=now,
        limit=limit,
    )
    team_open = list_cases(s, teams=teams, filter="open", user=user, now=now, limit=limit)
    return HomeData(
        user=user,
        assigned=assigned.rows,
        team_open=team_open.rows,
        headlines=headlines(s, teams=list(teams), since=now - HEADLINE_WINDOW, until=now),
    )


def headlines(s: Session, *, teams: list[str], since: datetime, until: datetime) -> list[Headline]:
    """CSAT, NPS and CES per team over [since, until), in the order given; teams without feedback get None."""
    if not teams:
        return []
    score = Feedback.score
    # One pass over the (team, metric, submitted_at, score) index: each metric's formula needs only these sums.
    rows = s.execute(
        select(
            Feedback.team,
            Feedback.metric,
            func.count(),
            scores.count_satisfied(),
            scores.count_promoters(),
            scores.count_detractors(),
            func.sum(
                score
            ),  # ces mean = sum / n, in Python: avg() would give Decimal on PostgreSQL
        )
        .where(
            Feedback.team.in_(teams),
            Feedback.metric.in_(("csat", "nps", "ces")),
            Feedback.submitted_at >= since,
            Feedback.submitted_at < until,
        )
        .group_by(Feedback.team, Feedback.metric)
    ).all()
    found: dict[str, dict[str, Any]] = {team: {} for team in teams}
    for team, metric, n, satisfied, promoters, detractors, total in rows:
        values = found[team]
        values[f"{metric}_n"] = n
        if metric == "csat":
            values["csat"] = 100 * satisfied / n
        elif metric == "nps":
            values["nps"] = 100 * (promoters - detractors) / n
        else:
            values["ces"] = total / n
    return [Headline(team, **found[team]) for team in teams]


def _overdue(teams: Mapping[str, TeamSla], now: datetime) -> ColumnElement[bool]:
    """Past either deadline in the current state, each case by its own SLA (bot.cases.deadlines.overdue)."""
    return deadlines.overdue(teams, now)


def _rows_statement(where: list[ColumnElement[bool]], *, newest_first: bool) -> Select:
    """A page of the cases matching `where`, each row with the count of all of them: one statement, not two (an
    uncorrelated subquery runs once), so one round trip, and on SQLite half the hand-offs of the GIL."""
    # Correlated per returned row only (after LIMIT), each an index lookup on case_events(case_id, kind, at).
    acknowledged_at = (
        select(func.min(CaseEvent.at))
        .where(CaseEvent.case_id == Case.id, CaseEvent.kind.in_(_ACK_KINDS))
        .scalar_subquery()
    )
    order = (Case.opened_at.desc(), Case.id.desc()) if newest_first else (Case.opened_at, Case.id)
    return (
        select(
            Case.id,
            Case.kind,
            Case.team,
            Case.state,
            Case.severity,
            Case.opened_at,
            Case.assignee,
            Case.summary,
            Case.segment,
            acknowledged_at.label("acknowledged_at"),
            # correlate(None): counted over all of cases, not tied to the outer row's case
            select(func.count())
            .select_from(Case)
            .where(*where)
            .correlate(None)
            .scalar_subquery()
            .label("total"),
        )
        .where(*where)
        .order_by(*order)
        .limit(bindparam("limit"))
    )


def _row(r: Row, teams: Mapping[str, TeamSla]) -> CaseRow:
    sla = sla_of(teams[r.team], r.segment)
    return CaseRow(
        id=r.id,
        kind=r.kind,
        team=r.team,
        state=r.state,
        severity=r.severity,
        opened_at=r.opened_at,
        assignee=r.assignee,
        summary=r.summary or {},
        acknowledged_at=r.acknowledged_at,
        ack_due=r.opened_at + sla.ack,
        resolve_due=r.opened_at + sla.resolve,
    )


def _list_statements() -> dict[str, Select]:
    # Built once: constructing these statements and their cache keys cost more than running them.
    lists = {}
    for name, where, newest_first in (
        ("open", [_TEAM_IN, UNRESOLVED], False),
        ("mine", [_TEAM_IN, Case.assignee == bindparam("user"), Case.state != "resolved"], False),
        ("all", [_TEAM_IN], True),
    ):
        lists[name] = _rows_statement(where, newest_first=newest_first)
    return lists


_TEAM_IN = Case.team.in_(bindparam("teams", expanding=True))
_LISTS = _list_statements()


# -- resolutions: shared by the huddle digest and the weekly summary ---------------------------------------

_RESOLVED_KINDS = ("resolved", "reopened")


@dataclass(frozen=True)
class Resolution:
    """A case that stands resolved at the end of a period, its last resolution inside the period."""

    team: str
    case_id: int
    opened_at: datetime
    resolved_at: datetime

    @property
    def ttr(self) -> timedelta:
        return self.resolved_at - self.opened_at


def resolutions(
    s: Session, *, teams: list[str], since: datetime, until: datetime
) -> list[Resolution]:
    """Cases resolved in [since, until), oldest resolution first (see `standing_resolutions`)."""
    if not teams:
        return []
    rows = s.execute(
        select(Case.team, Case.id, Case.opened_at, CaseEvent.at)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*standing_resolutions(teams, since, until))
        .order_by(CaseEvent.at, Case.id)
    ).all()
    return [Resolution(team, case_id, opened_at, at) for team, case_id, opened_at, at in rows]


def standing_resolutions(
    teams: list[str], since: datetime, until: datetime
) -> list[ColumnElement[bool]]:
    """The `resolved` events (joined to their case) by which a case counts as resolved in [since, until).

    A case counts once, by its last resolution before `until` (SPEC §2), and only if no reopen followed it
    before `until`: a case resolved and reopened within the period is not resolved. A `duplicate` resolution
    is left out (SPEC §8): the case it duplicates carries the TTR and the cause. Reads case_events by
    (kind, at), then each candidate's later events by (case_id, kind, at).
    """
    later = aliased(CaseEvent)
    outcome = CaseEvent.details["outcome"].as_string()
    return [
        CaseEvent.kind == "resolved",
        or_(outcome.is_(None), outcome != "duplicate"),
        CaseEvent.at >= since,
        CaseEvent.at < until,
        Case.team.in_(teams),
        ~exists().where(
            later.case_id == CaseEvent.case_id,
            later.kind.in_(_RESOLVED_KINDS),
            later.at > CaseEvent.at,
            later.at < until,
        ),
    ]


def median_duration(durations: Iterable[timedelta]) -> timedelta | None:
    """The median (mean of the middle two for an even count); None for none."""
    ordered = sorted(durations)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
