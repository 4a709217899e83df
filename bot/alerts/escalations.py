"""Escalation (SPEC §6): cases past their ack or resolve SLA, and past twice either, escalated once per case and level."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, String, cast, exists, literal, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cases import timeline
from bot.cases.deadlines import SlaGroup, never_acknowledged, sla_groups
from bot.cases.lifecycle import Cases
from bot.delivery.outbox import ESCALATION, enqueue
from config.fields import fmt_duration
from config.teams import LoopbotConfig, Team
from storage.models import UNRESOLVED, Case, OutboxMessage

log = logging.getLogger("loopbot.escalations")

SOURCE = "job"
# level: (the SLA it counts, how many times that SLA), earliest first for a case past several at once.
LEVELS: dict[str, tuple[str, int]] = {
    "ack": ("ack", 1),
    "resolve": ("resolve", 1),
    "ack_leaders": ("ack", 2),
    "resolve_leaders": ("resolve", 2),
}
LEADER_LEVELS = frozenset({"ack_leaders", "resolve_leaders"})
_CHUNK = 500  # ids per IN (...): far below SQLite's bound-parameter limit
# A deadline that passed longer ago than this is not escalated: after a first start on an old backlog, or
# a long outage, Slack is not flooded with stale escalations (as ingestion opens no case for old feedback).
# Within it, the level's outbox key (kept 30 days) tells whether it was escalated already.
HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class Due:
    level: str
    sla: timedelta
    deadline: datetime


class Escalations:
    """Each team is one unit of work and fails alone; each (case, level) is claimed by its outbox key."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        cases: Cases | None = None,
        *,
        reads: sessionmaker[Session] | None = None,
    ):
        self.sessions = sessions
        self.reads = reads or sessions
        self.config = config
        self.cases = cases or Cases(sessions, config)
        self._told_no_channel = False

    def run(self, now: datetime) -> list[tuple[int, str]]:
        """Escalate every case past a level it has not had yet; returns (case id, level) done by this run."""
        done: list[tuple[int, str]] = []
        for team in self.config.teams.values():
            try:
                done += self._team(team, now)
            except Exception:
                log.exception("escalation failed for team %s", team.key)
        return done

    def _team(self, team: Team, now: datetime) -> list[tuple[int, str]]:
        # Found with a read-only unit (no write lock held while looking); the write unit only for what is due.
        with self.reads.begin() as s:
            due = self._due(s, team, now)
        if not due:
            return []
        done: list[tuple[int, str]] = []
        with self.sessions.begin() as s:
            cases = {c.id: c for c in _chunked(s, select(Case), Case.id, list(due))}
            for case_id, levels in due.items():
                for d in levels:
                    if case_id in cases and self._escalate(s, cases[case_id], team, d, now):
                        done.append((case_id, d.level))
        for case_id, level in done:
            log.info("FB-%d of team %s escalated at level %s", case_id, team.key, level)
        return done

    def _due(self, s: Session, team: Team, now: datetime) -> dict[int, list[Due]]:
        """Unresolved cases whose deadline for a level passed within HORIZON and that lack that level: per SLA
        the team's cases have (its own, and its segments', bot.cases.deadlines), one range of the partial index
        of unresolved cases per level."""
        due: dict[int, list[Due]] = {}
        for group in sla_groups({team.key: team}):
            for level, (which, times) in sorted(
                LEVELS.items(), key=lambda item: item[1][1] * getattr(group.sla, item[1][0])
            ):
                span: timedelta = getattr(group.sla, which)
                for case_id, opened_at in s.execute(due_statement(group, level, now)):
                    due.setdefault(case_id, []).append(Due(level, span, opened_at + times * span))
        return due

    def _escalate(self, s: Session, case: Case, team: Team, d: Due, now: datetime) -> bool:
        leaders = d.level in LEADER_LEVELS
        channel = self.config.leaders_channel if leaders else None
        details: dict[str, object] = {
            "level": d.level,
            "sla": fmt_duration(d.sla),
            "deadline": d.deadline.isoformat(),
        }
        if leaders:
            details["channel"] = channel
        # The key decides, not the read above: of two replicas (or a restart mid-run) one appends the event.
        event = timeline.add_once(
            s,
            team.channel,
            case,
            "escalated",
            details,
            key=f"case:{case.id}:escalation:{d.level}",
            source=SOURCE,
            now=now,
        )
        if event is None:
            return False
        if leaders and channel is not None:
            enqueue(
                s,
                key=f"case:{case.id}:escalation:{d.level}:leaders",
                kind=ESCALATION,
                channel=channel,
                payload={"case_id": case.id, "event_id": event.id},
                now=now,
            )
        elif leaders and not self._told_no_channel:
            self._told_no_channel = True
            log.warning(
                "no leaders_channel is configured: escalations past twice an SLA go to the case threads only"
            )
        return True


def due_statement(group: SlaGroup, level: str, now: datetime) -> Select:
    """The cases of `group` whose deadline for `level` passed within HORIZON and that lack that level."""
    which, times = LEVELS[level]
    deadline = times * getattr(group.sla, which)
    had = exists().where(
        OutboxMessage.key
        == literal("case:") + cast(Case.id, String) + literal(f":escalation:{level}")
    )
    where = [
        group.where,
        UNRESOLVED,
        Case.opened_at < now - deadline,
        Case.opened_at >= now - deadline - HORIZON,
        ~had,
    ]
    if which == "ack":
        where.append(never_acknowledged())
    return select(Case.id, Case.opened_at).where(*where).order_by(Case.opened_at)


def _chunked(s: Session, query, column, ids: Sequence[int], *, scalars: bool = True) -> list:  # noqa: ANN001
    found: list = []
    for start in range(0, len(ids), _CHUNK):
        stmt = query.where(column.in_(ids[start : start + _CHUNK]))
        found += list(s.scalars(stmt) if scalars else s.execute(stmt))
    return found
