"""`/feedback stats` (SPEC §5, §9): per-team cases, TTA/TTR, SLA, CSAT/NPS/CES and reopens; breakdowns; categories."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from bot.cases import deadlines
from bot.cases.deadlines import TeamSla
from bot.cases.permissions import named_team
from bot.reports.breakdowns import Breakdown, breakdown, check_field
from bot.reports.quality import CategoryAgreement, Reopens, category_agreement, reopens
from bot.reports.queries import _ACK_KINDS, Headline, headlines, median_duration, resolutions
from bot.reports.weekly import Compliance, sla_compliance
from config.teams import LoopbotConfig
from storage.models import UNRESOLVED, Case, CaseEvent


@dataclass(frozen=True)
class TeamStats:
    """One team over [since, until), and its backlog as it stands at `now`.

    - opened: cases opened in the period;
    - resolved: cases whose last resolution fell in the period with no reopen after it before `until`
      (bot.reports.queries.resolutions, as the digest and the weekly summary count them);
    - open / overdue: unresolved cases (open or acknowledged) at `now`, and those of them past either
      deadline in their current state (SPEC §2) — `/feedback stats` passes until = now;
    - TTA over the cases first acknowledged in the period (resolving straight from open acknowledges),
      TTR over the period's resolved cases (their last resolution); median as bot.reports.queries.median_duration,
      p90 by nearest rank (see `percentile`); None when there is no case to measure;
    - ack / resolve: SLA compliance of the cases whose deadline fell in the period (bot.reports.weekly.sla_compliance);
    - headline: CSAT, NPS and CES with their n over the period (bot.reports.queries.headlines);
    - reopens: the cases resolved in the period and how many of them were reopened (bot.reports.quality.reopens).
    """

    team: str
    since: datetime
    until: datetime
    opened: int
    resolved: int
    open: int
    overdue: int
    acknowledged: int  # cases first acknowledged in the period: TTA's n (TTR's n is `resolved`)
    tta_median: timedelta | None
    tta_p90: timedelta | None
    ttr_median: timedelta | None
    ttr_p90: timedelta | None
    ack: Compliance
    resolve: Compliance
    headline: Headline
    reopens: Reopens = Reopens()


def percentile(durations: Iterable[timedelta], p: float) -> timedelta | None:
    """The nearest-rank p-th percentile: the ⌈p/100 · n⌉-th smallest of n values (an observed value, never
    interpolated); None for none. p90 of 10 values is the 9th, of 11 values the 10th, of 1 value that value."""
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(durations)
    if not ordered:
        return None
    rank = math.ceil(
        p * len(ordered) / 100
    )  # p * n first: 90 * 10 / 100 is exactly 9, 0.9 * 10 is not
    return ordered[max(rank, 1) - 1]


class Stats:
    """Stats for `/feedback stats`: one read-only unit of work, one query per measure for all teams together."""

    def __init__(self, reads: sessionmaker[Session], config: LoopbotConfig):
        self.reads = reads  # read-only units: storage.db.make_read_sessions
        self.config = config

    def for_teams(
        self, team_keys: Sequence[str], since: datetime, until: datetime, now: datetime
    ) -> list[TeamStats]:
        """The stats of each team in `team_keys`, in that order (an unknown key raises bot.errors.NotFound)."""
        if since >= until:
            raise ValueError("since must be before until")
        keys = list(dict.fromkeys(team_keys))
        teams = {key: named_team(self.config, key) for key in keys}
        if not keys:
            return []
        with self.reads.begin() as s:
            metrics = headlines(s, teams=keys, since=since, until=until)
            opened = _opened(s, keys, since, until)
            backlog = _backlog(s, teams, now)
            tta: defaultdict[str, list[timedelta]] = defaultdict(list)
            for team, opened_at, acknowledged_at in _acknowledgements(s, keys, since, until):
                tta[team].append(acknowledged_at - opened_at)
            ttr: defaultdict[str, list[timedelta]] = defaultdict(list)
            for r in resolutions(s, teams=keys, since=since, until=until):
                ttr[r.team].append(r.ttr)
            compliance = sla_compliance(s, teams=teams, since=since, until=until)
            reopened = reopens(s, keys, since, until)
        return [
            TeamStats(
                team=key,
                since=since,
                until=until,
                opened=opened.get(key, 0),
                resolved=len(ttr[key]),
                open=backlog.get(key, (0, 0))[0],
                overdue=backlog.get(key, (0, 0))[1],
                acknowledged=len(tta[key]),
                tta_median=median_duration(tta[key]),
                tta_p90=percentile(tta[key], 90),
                ttr_median=median_duration(ttr[key]),
                ttr_p90=percentile(ttr[key], 90),
                ack=compliance[key][0],
                resolve=compliance[key][1],
                headline=headline,
                reopens=reopened.get(key, Reopens()),
            )
            for key, headline in zip(keys, metrics)
        ]

    def breakdown(
        self, team_keys: Sequence[str], by: str, since: datetime, until: datetime
    ) -> Breakdown:
        """`stats … by=FIELD`: the groups of `by` over the teams' responses in [since, until) (an unknown key
        raises bot.errors.NotFound, an unknown field bot.errors.InvalidInput)."""
        check_field(by)
        teams = [named_team(self.config, key) for key in dict.fromkeys(team_keys)]
        wide = 2 * len(teams) >= len(self.config.teams)
        with self.reads.begin() as s:
            return breakdown(s, teams, by, since, until, wide=wide)

    def categories(
        self, team_keys: Sequence[str], since: datetime, until: datetime
    ) -> CategoryAgreement:
        """`stats … categories`: the keyword categories against the causes supervisors chose, over the cases of
        `team_keys` standing resolved in [since, until)."""
        if since >= until:
            raise ValueError("since must be before until")
        keys = [named_team(self.config, key).key for key in dict.fromkeys(team_keys)]
        with self.reads.begin() as s:
            return category_agreement(s, keys, since, until)


def _opened(s: Session, teams: list[str], since: datetime, until: datetime) -> dict[str, int]:
    """A range on cases(team, opened_at) per team."""
    rows = s.execute(
        select(Case.team, func.count())
        .where(Case.team.in_(teams), Case.opened_at >= since, Case.opened_at < until)
        .group_by(Case.team)
    ).all()
    return {team: n for team, n in rows}


def _backlog(s: Session, teams: Mapping[str, TeamSla], now: datetime) -> dict[str, tuple[int, int]]:
    """(unresolved, overdue) per team, reading the partial index of unresolved cases (UNRESOLVED literally); for a
    team with segment SLAs, a case past one of its SLAs' deadlines is read for its segment too.

    Overdue as bot.cases.deadlines.overdue (past either deadline in its current state, by the case's own SLA),
    with the cheap test first: most of a backlog is past its resolve deadline, and CASE stops at the first
    true branch, so the never-acknowledged lookup on case_events runs only for cases between their deadlines.
    """
    overdue = case(
        (deadlines.past_resolve(teams, now), 1),
        (and_(deadlines.past_ack(teams, now), deadlines.never_acknowledged()), 1),
        else_=0,
    )
    rows = (
        s.connection()
        .execute(
            # The range on opened_at (true of every case at `now`) makes SQLite read the partial (team, opened_at)
            # index, which holds what the count needs; on (team, state) it fetched every row for its opened_at.
            select(Case.team, func.count(), func.sum(overdue))
            .where(Case.team.in_(list(teams)), UNRESOLVED, Case.opened_at <= now)
            .group_by(Case.team)
        )
        .all()
    )
    return {team: (n, overdue or 0) for team, n, overdue in rows}


def _acknowledgements(
    s: Session, teams: list[str], since: datetime, until: datetime
) -> list[tuple[str, datetime, datetime]]:
    """(team, opened_at, acknowledged_at) of the cases first acknowledged in [since, until).

    The first acknowledgement is what TTA measures (bot.cases.timings.derive): a re-acknowledgement after a reopen
    does not count again. Reads case_events by (kind, at), then each candidate's earlier events by
    (case_id, kind, at); an acknowledgement and a resolution at the same instant are one, deduplicated here.
    """
    earlier = aliased(CaseEvent)
    rows = (
        s.connection()
        .execute(  # plain rows: the period's acknowledgements can be thousands
            select(Case.team, Case.id, Case.opened_at, CaseEvent.at)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(
                CaseEvent.kind.in_(_ACK_KINDS),
                CaseEvent.at >= since,
                CaseEvent.at < until,
                Case.team.in_(teams),
                ~exists().where(
                    earlier.case_id == CaseEvent.case_id,
                    earlier.kind.in_(_ACK_KINDS),
                    earlier.at < CaseEvent.at,
                ),
            )
        )
        .all()
    )
    first = {case_id: (team, opened_at, at) for team, case_id, opened_at, at in rows}
    return list(first.values())
