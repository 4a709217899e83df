"""Which SLA holds for which cases (SPEC §2, §9), as SQL conditions: one per team and distinct SLA."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_

from bot.cases.timings import ACK_KINDS
from config.teams import Sla, Team
from storage.models import Case, CaseEvent

# What callers hand over per team key: the team (its SLA and its segments' SLAs), or one SLA for all its cases.
TeamSla = Team | Sla
_ACK_KINDS = tuple(sorted(ACK_KINDS))


@dataclass(frozen=True)
class SlaGroup:
    """The cases of `team` held to `sla`: `where` selects them."""

    team: str
    sla: Sla
    where: ColumnElement[bool]


def sla_of(team: TeamSla, segment: str | None) -> Sla:
    """The SLA of a case of `team` and `segment` (Case.segment, or a feedback's segment)."""
    return team.sla_for(segment) if isinstance(team, Team) else team


def sla_groups(teams: Mapping[str, TeamSla]) -> list[SlaGroup]:
    """Every case of `teams` in exactly one group: per team, one group per SLA its segments have that differs
    from the team's own, and one with the team's own SLA for every other case (no segment, or one without an
    SLA of its own). A team without segment SLAs is one group on `team` alone, so its queries are unchanged."""
    groups: list[SlaGroup] = []
    for key, team in teams.items():
        special: dict[Sla, list[str]] = {}
        if isinstance(team, Team):
            for segment, sla in sorted(team.sla_by_segment.items()):
                if sla != team.sla:  # a segment given the team's own SLA needs no group of its own
                    special.setdefault(sla, []).append(segment)
        named = [segment for segments in special.values() for segment in segments]
        own = Case.team == key
        if named:
            # NOT IN is never true for NULL: cases without a segment are named explicitly.
            own = and_(own, or_(Case.segment.is_(None), Case.segment.not_in(named)))
        groups.append(SlaGroup(key, sla_of(team, None), own))
        groups += [
            SlaGroup(key, sla, and_(Case.team == key, Case.segment.in_(segments)))
            for sla, segments in special.items()
        ]
    return groups


def never_acknowledged() -> ColumnElement[bool]:
    """No acknowledgement in the case's timeline (resolving straight from open acknowledges, SPEC §2)."""
    return ~exists().where(CaseEvent.case_id == Case.id, CaseEvent.kind.in_(_ACK_KINDS))


def past_resolve(teams: Mapping[str, TeamSla], now: datetime) -> ColumnElement[bool]:
    """Opened longer ago than its resolve SLA, whatever its state."""
    return _past(teams, now, lambda sla: sla.resolve)


def past_ack(teams: Mapping[str, TeamSla], now: datetime) -> ColumnElement[bool]:
    """Opened longer ago than its ack SLA, whatever its state."""
    return _past(teams, now, lambda sla: sla.ack)


def _past(
    teams: Mapping[str, TeamSla], now: datetime, span: Callable[[Sla], timedelta]
) -> ColumnElement[bool]:
    """Per team: past the longest of its SLAs' spans whatever the segment, else past the shortest and past
    its own group's. Team and opened_at decide most cases on their own (an index holds both); only a case
    between a team's shortest and longest deadline needs its segment, a read of the table's row."""
    by_team: dict[str, list[SlaGroup]] = {}
    for g in sla_groups(teams):
        by_team.setdefault(g.team, []).append(g)
    terms = []
    for key, groups in by_team.items():
        if len(groups) == 1:
            terms.append(and_(groups[0].where, Case.opened_at < now - span(groups[0].sla)))
            continue
        longest, shortest = max(span(g.sla) for g in groups), min(span(g.sla) for g in groups)
        own = or_(*(and_(g.where, Case.opened_at < now - span(g.sla)) for g in groups))
        terms.append(
            and_(
                Case.team == key,
                or_(Case.opened_at < now - longest, and_(Case.opened_at < now - shortest, own)),
            )
        )
    return or_(*terms)


def overdue(teams: Mapping[str, TeamSla], now: datetime) -> ColumnElement[bool]:
    """Past either deadline in its current state (SPEC §2), for unresolved cases: past resolve, or past ack and
    never acknowledged. The cheap test first: most of a backlog is past resolve, and OR stops at the first
    true branch, so the lookup on case_events runs only for cases between their two deadlines."""
    return or_(past_resolve(teams, now), and_(past_ack(teams, now), never_acknowledged()))
