"""`/feedback customer ID` (SPEC §9): a customer's responses, cases and repeats over 365 days, in three queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, literal_column, null, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from bot import scores
from bot.cases.permissions import is_leader, is_supervisor
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.reports.breakdowns import negative_by_team
from config.teams import LoopbotConfig, Team
from storage.models import Case, CaseEvent, Feedback

WINDOW = timedelta(days=365)
SHOWN = 25  # rows of each kind fetched, newest first; the counts cover all of them
_ECHO = 80  # how much of a typed id an error repeats
_NOT_ECHOED = str.maketrans("", "", "`<>&\n")


@dataclass(frozen=True)
class Response:
    id: int
    team: str
    metric: str
    score: int
    negative: bool  # by the team's `open_case_when`
    comment: str | None  # PII-masked at ingestion, as stored
    touchpoint: str | None
    submitted_at: datetime


@dataclass(frozen=True)
class CustomerCase:
    id: int
    team: str
    kind: str
    state: str
    opened_at: datetime
    cause: str | None  # the latest resolution's root cause while the case stands resolved
    outcome: str | None  # that resolution's outcome

    @property
    def ref(self) -> str:
        return f"FB-{self.id}"


@dataclass(frozen=True)
class TeamRepeats:
    team: str
    responses: int = 0
    negative: int = 0
    cases: int = 0


@dataclass(frozen=True)
class CustomerView:
    customer: str
    since: datetime
    until: datetime
    teams: tuple[
        TeamRepeats, ...
    ]  # teams with any response or case of the customer, in config order
    responses: tuple[Response, ...]  # newest first, at most SHOWN
    cases: tuple[CustomerCase, ...]  # newest first, at most SHOWN
    shared_causes: tuple[tuple[str, int], ...]  # causes of two cases or more, most frequent first
    scope: tuple[str, ...]  # the teams the asker may see
    all_teams: bool  # the asker sees every team (a leader)

    @property
    def total_responses(self) -> int:
        return sum(t.responses for t in self.teams)

    @property
    def total_negative(self) -> int:
        return sum(t.negative for t in self.teams)

    @property
    def total_cases(self) -> int:
        return sum(t.cases for t in self.teams)


def visible_teams(config: LoopbotConfig, user: str) -> tuple[list[Team], bool]:
    """Leaders see every team; supervisors the teams they supervise; anyone else is refused."""
    if is_leader(config, user):
        return list(config.teams.values()), True
    mine = [t for t in config.teams.values() if is_supervisor(t, user)]
    if not mine:
        raise PermissionDenied(
            "Only supervisors (for their own teams) and leaders can look up a customer."
        )
    return mine, False


class Customers:
    """The customer view, one read-only unit of work."""

    def __init__(self, reads: sessionmaker[Session], config: LoopbotConfig):
        self.reads = reads  # read-only units: storage.db.make_read_sessions
        self.config = config

    def view(self, customer: str, user: str, now: datetime) -> CustomerView:
        """Raises PermissionDenied for anyone but supervisors and leaders, NotFound when the customer has no
        response and no case in the asker's teams over the last 365 days."""
        customer = customer.strip()
        if not customer:
            raise InvalidInput("Name the customer: `customer ID`.", field="customer")
        teams, all_teams = visible_teams(self.config, user)
        since = now - WINDOW
        with self.reads.begin() as s:
            view = customer_view(s, teams, customer, since, now, all_teams=all_teams)
        if not view.teams:
            shown = customer.translate(_NOT_ECHOED)[:_ECHO]
            where = "" if all_teams else f" in {', '.join(t.name for t in teams)}"
            raise NotFound(
                f"No responses from customer `{shown}` in the last 365 days{where}.",
                field="customer",
            )
        return view


def customer_view(
    s: Session,
    teams: Sequence[Team],
    customer: str,
    since: datetime,
    until: datetime,
    *,
    all_teams: bool = False,
) -> CustomerView:
    """The view over `teams`; `teams` empty when nothing was found. Three statements, each a range on a
    (customer, time) index: the counts (both GROUP BYs in one UNION ALL), the newest responses, the newest cases."""
    keys = [t.key for t in teams]
    by_key = {t.key: t for t in teams}
    resolution = _latest_resolution()
    counts = s.execute(_counts(teams, keys, customer, since, resolution)).all()
    found: dict[str, dict[str, int]] = {}
    causes: Counter[str] = Counter()
    for part, team, n, negative, cause in counts:
        into = found.setdefault(team, {})
        if part == 1:
            into["responses"], into["negative"] = n, negative or 0
        else:
            into["cases"] = into.get("cases", 0) + n
            if cause and cause != "other":  # "other" names no cause two cases could share
                causes[cause] += n
    responses = s.execute(
        select(
            Feedback.id,
            Feedback.team,
            Feedback.metric,
            Feedback.score,
            Feedback.comment,
            Feedback.touchpoint,
            Feedback.submitted_at,
        )
        .where(
            Feedback.customer == customer, Feedback.submitted_at >= since, Feedback.team.in_(keys)
        )
        .order_by(Feedback.submitted_at.desc(), Feedback.id.desc())
        .limit(SHOWN)
    ).all()
    cases = s.execute(
        select(Case.id, Case.team, Case.kind, Case.state, Case.opened_at, resolution)
        .where(Case.customer == customer, Case.opened_at >= since, Case.team.in_(keys))
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .limit(SHOWN)
    ).all()
    order = {key: i for i, key in enumerate(keys)}
    return CustomerView(
        customer=customer,
        since=since,
        until=until,
        teams=tuple(TeamRepeats(team, **found[team]) for team in sorted(found, key=order.get)),
        responses=tuple(
            Response(
                id=r.id,
                team=r.team,
                metric=r.metric,
                score=r.score,
                negative=r.metric in scores.METRICS
                and scores.is_negative(by_key[r.team].open_case_when, r.metric, r.score),
                comment=r.comment,
                touchpoint=r.touchpoint,
                submitted_at=r.submitted_at,
            )
            for r in responses
        ),
        cases=tuple(_case(r) for r in cases),
        shared_causes=tuple(
            sorted(((c, n) for c, n in causes.items() if n >= 2), key=lambda p: (-p[1], p[0]))
        ),
        scope=tuple(keys),
        all_teams=all_teams,
    )


def _latest_resolution() -> Any:
    """The details of a case's latest resolution, NULL unless it stands resolved: one lookup on
    case_events(case_id, kind, at) per case of the customer."""
    latest = (
        select(CaseEvent.details)
        .where(CaseEvent.case_id == Case.id, CaseEvent.kind == "resolved")
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return case((Case.state == "resolved", latest), else_=null()).label("resolution")


def _counts(
    teams: Sequence[Team], keys: list[str], customer: str, since: datetime, resolution: Any
) -> Select:
    """Responses and negative ones per team; cases per (team, cause) — a duplicate's cause is left out, as in
    every root-cause count (SPEC §8)."""
    negative = negative_by_team(teams)
    responses = (
        select(
            literal_column("1").label("part"),
            Feedback.team,
            func.count(),
            func.sum(case((negative, 1), else_=0)),
            null(),
        )
        .where(
            Feedback.customer == customer, Feedback.submitted_at >= since, Feedback.team.in_(keys)
        )
        .group_by(Feedback.team)
    )
    per_case = (
        select(Case.team.label("team"), resolution)
        .where(Case.customer == customer, Case.opened_at >= since, Case.team.in_(keys))
        .subquery()
    )
    outcome = per_case.c.resolution["outcome"].as_string()
    cause = case(
        (outcome == "duplicate", null()), else_=per_case.c.resolution["root_cause"].as_string()
    )
    opened = select(literal_column("2"), per_case.c.team, func.count(), null(), cause).group_by(
        per_case.c.team, cause
    )
    return union_all(responses, opened)


def _case(r: Any) -> CustomerCase:
    details = r.resolution if isinstance(r.resolution, dict) else {}
    outcome = details.get("outcome")
    return CustomerCase(
        id=r.id,
        team=r.team,
        kind=r.kind,
        state=r.state,
        opened_at=r.opened_at,
        cause=None if outcome == "duplicate" else details.get("root_cause"),
        outcome=outcome,
    )
