"""The weekly summary for the leaders' channel (SPEC §6, §9): per-team metrics, cases, SLA, reopens; categories."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cases.deadlines import TeamSla, sla_groups, sla_of
from bot.cases.timings import ACK_KINDS
from bot.charts.request import ChartRequest
from bot.reports.quality import CategoryAgreement, Reopens, category_agreement, reopens
from bot.reports.queries import Headline, headlines, median_duration, resolutions
from config.teams import LoopbotConfig, Sla
from storage.models import Case, CaseEvent, CorrectiveAction

WEEK = timedelta(days=7)
CHART_WEEKS = 4
_ACK_KINDS = tuple(sorted(ACK_KINDS))
_TIMED_KINDS = (*_ACK_KINDS, "reopened")
K = TypeVar("K")


@dataclass(frozen=True)
class Compliance:
    """Cases whose deadline fell in the week, and how many of them met it."""

    due: int = 0
    met: int = 0

    @property
    def percent(self) -> float | None:
        return None if self.due == 0 else 100 * self.met / self.due


@dataclass(frozen=True)
class TeamWeek:
    team: str
    headline: Headline  # CSAT, NPS, CES with their n
    opened: int  # cases opened in the week
    resolved: int  # cases whose last resolution fell in the week (bot.reports.queries.resolutions)
    median_ttr: timedelta | None
    ack: Compliance
    resolve: Compliance
    reopens: Reopens = Reopens()  # cases resolved in the week and how many were reopened (SPEC §9)


@dataclass(frozen=True)
class WeeklySummary:
    since: datetime
    until: datetime
    teams: tuple[TeamWeek, ...]  # in config order
    # Corrective actions whose verification concluded in the week, and how many of them verified (SPEC §8).
    fixes_judged: int = 0
    fixes_verified: int = 0
    # The keyword categories against the causes supervisors chose, over every team's week (SPEC §9).
    agreement: CategoryAgreement = CategoryAgreement()


class Weekly:
    """Composes the summary in one read-only unit of work; the weekly job renders and posts it."""

    def __init__(self, reads: sessionmaker[Session], config: LoopbotConfig):
        self.reads = reads
        self.config = config

    def compose(self, until: datetime) -> WeeklySummary:
        """The 7 days before `until`: [until - 7d, until)."""
        since = until - WEEK
        keys = list(self.config.teams)
        with self.reads.begin() as s:
            metrics = headlines(s, teams=keys, since=since, until=until)
            opened = _opened(s, keys, since, until)
            by_team: defaultdict[str, list[timedelta]] = defaultdict(list)
            for r in resolutions(s, teams=keys, since=since, until=until):
                by_team[r.team].append(r.ttr)
            compliance = sla_compliance(s, teams=self.config.teams, since=since, until=until)
            reopened = reopens(s, keys, since, until)
            agreement = category_agreement(s, keys, since, until)
            judged = dict(
                s.execute(
                    select(CorrectiveAction.state, func.count())
                    .where(
                        CorrectiveAction.verified_at >= since,
                        CorrectiveAction.verified_at < until,
                        CorrectiveAction.team.in_(keys),
                    )
                    .group_by(CorrectiveAction.state)
                ).all()
            )
        rows = tuple(
            TeamWeek(
                team=key,
                headline=headline,
                opened=opened.get(key, 0),
                resolved=len(by_team[key]),
                median_ttr=median_duration(by_team[key]),
                ack=compliance[key][0],
                resolve=compliance[key][1],
                reopens=reopened.get(key, Reopens()),
            )
            for key, headline in zip(keys, metrics)
        )
        # An action verified this week and reopened since still counts: it was judged this week.
        return WeeklySummary(
            since=since,
            until=until,
            teams=rows,
            fixes_judged=sum(judged.values()),
            fixes_verified=judged.get("verified", 0),
            agreement=agreement,
        )


def weekly_chart(config: LoopbotConfig, until: datetime) -> ChartRequest:
    """The summary's chart: CSAT of all teams over the four weeks before it, so the week shows against the month."""
    return ChartRequest(
        kind="csat",
        teams=tuple(config.teams),
        all_teams=True,
        days=CHART_WEEKS * 7,
        period=f"{CHART_WEEKS}w",
        until=until,
    )


def _opened(s: Session, teams: list[str], since: datetime, until: datetime) -> dict[str, int]:
    rows = s.execute(
        select(Case.team, func.count())
        .where(Case.team.in_(teams), Case.opened_at >= since, Case.opened_at < until)
        .group_by(Case.team)
    ).all()
    return dict(rows)


def sla_compliance(
    s: Session,
    *,
    teams: Mapping[str, TeamSla],
    since: datetime,
    until: datetime,
) -> dict[str, tuple[Compliance, Compliance]]:
    """(ack, resolve) compliance per team over the cases whose deadline fell in [since, until).

    Each case against its own SLA: its segment's when `teams` maps to Team (bot.cases.deadlines).
    Counting by deadline puts every case in exactly one week, and only once its outcome is known: a case
    never acknowledged counts as missed in the week it fell due, rather than never counting at all (which
    counting acknowledgements made in the week would do). Met means:
    - ack: acknowledged at or before `opened_at + sla.ack` (resolving straight from open acknowledges, SPEC §2);
    - resolve: resolved at or before `opened_at + sla.resolve` by its last resolution before `until`, with no
      reopen after it (SPEC §2: the last resolution counts) — the rule bot.cases.timings.Timings.resolve_met applies.
    """
    found = sla_compliance_by(
        s, teams=teams, since=since, until=until, bucket=lambda _deadline: None
    )
    return {team: found.get((team, None), (Compliance(), Compliance())) for team in teams}


def sla_compliance_by(
    s: Session,
    *,
    teams: Mapping[str, TeamSla],
    since: datetime,
    until: datetime,
    bucket: Callable[[datetime], K],
) -> dict[tuple[str, K], tuple[Compliance, Compliance]]:
    """`sla_compliance`, counted separately per (team, bucket of the deadline), e.g. per week for a chart;
    buckets in which nothing fell due are left out."""
    if not teams:
        return {}
    # Per-case deadlines would need date arithmetic that differs per backend; so SQL selects the period's
    # cohorts (a range on cases(team, opened_at)), each case with its first acknowledgement, last resolution and
    # last reopen from one join on case_events(case_id, kind, at), and the comparisons with the deadlines run
    # here. One grouped join rather than three correlated subqueries, which took longer (bench/RESULTS.md).
    before = CaseEvent.at < until
    acknowledged_at = func.min(case((CaseEvent.kind.in_(_ACK_KINDS), CaseEvent.at)))
    resolved_at = func.max(case((and_(CaseEvent.kind == "resolved", before), CaseEvent.at)))
    reopened_at = func.max(case((and_(CaseEvent.kind == "reopened", before), CaseEvent.at)))
    # Both deadlines' cohorts: opened in [since - resolve, until - ack) holds them, as ack <= resolve; per
    # team over all its SLAs (team and opened_at only: an index range), the comparisons below pick per case.
    spans: dict[str, list[Sla]] = defaultdict(list)
    for group in sla_groups(teams):
        spans[group.team].append(group.sla)
    cohorts = or_(
        *(
            and_(
                Case.team == team,
                Case.opened_at >= since - max(sla.resolve for sla in slas),
                Case.opened_at < until - min(sla.ack for sla in slas),
            )
            for team, slas in spans.items()
        )
    )
    timeline = (
        select(Case.team, Case.segment, Case.opened_at, acknowledged_at, resolved_at, reopened_at)
        .select_from(Case)
        .outerjoin(CaseEvent, and_(CaseEvent.case_id == Case.id, CaseEvent.kind.in_(_TIMED_KINDS)))
        .where(cohorts)
        .group_by(Case.id)
    )
    counts: defaultdict[tuple[str, K], list[int]] = defaultdict(
        lambda: [0, 0, 0, 0]
    )  # ack due, met; resolve due, met
    for team, segment, opened_at, acked, resolved, reopened in s.connection().execute(timeline):
        sla = sla_of(teams[team], segment)
        ack_due, resolve_due = opened_at + sla.ack, opened_at + sla.resolve
        if since <= ack_due < until:
            c = counts[team, bucket(ack_due)]
            c[0] += 1
            c[1] += acked is not None and acked <= ack_due
        if since <= resolve_due < until:
            stands_resolved = resolved is not None and (reopened is None or reopened < resolved)
            c = counts[team, bucket(resolve_due)]
            c[2] += 1
            c[3] += stands_resolved and resolved <= resolve_due
    return {key: (Compliance(c[0], c[1]), Compliance(c[2], c[3])) for key, c in counts.items()}
