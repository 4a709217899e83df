"""Escalation (SPEC §6): cases past their ack or resolve SLA, and past twice either, escalated once per case and level."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cases import Cases
from bot.outbox import enqueue
from bot.timings import ACK_KINDS
from config.fields import fmt_duration
from config.teams import LoopbotConfig, Sla, Team
from storage.models import UNRESOLVED, Case, CaseEvent

log = logging.getLogger("loopbot.escalations")

SOURCE = "job"
# level: (the SLA it counts, how many times that SLA), earliest first for a case past several at once.
LEVELS: dict[str, tuple[str, int]] = {
    "ack": ("ack", 1), "resolve": ("resolve", 1), "ack_leaders": ("ack", 2), "resolve_leaders": ("resolve", 2),
}
LEADER_LEVELS = frozenset({"ack_leaders", "resolve_leaders"})
_CHUNK = 500  # ids per IN (...): far below SQLite's bound-parameter limit


@dataclass(frozen=True)
class Due:
    level: str
    sla: timedelta
    deadline: datetime


def due_levels(opened_at: datetime, acknowledged: bool, sla: Sla, now: datetime) -> list[Due]:
    """The levels a case is past at `now`, with bot.timings.derive's deadlines (counted from opened_at, so a
    reopened case keeps its first deadlines; an acknowledgement before a reopen still counts)."""
    due = []
    for level, (which, times) in sorted(LEVELS.items(), key=lambda item: item[1][1] * getattr(sla, item[1][0])):
        if which == "ack" and acknowledged:
            continue
        span: timedelta = getattr(sla, which)
        deadline = opened_at + times * span
        if now > deadline:  # strictly past, as Timings.ack_overdue / resolve_overdue
            due.append(Due(level, span, deadline))
    return due


class LeadersPost(Protocol):
    def __call__(self, case: Case, team: Team, details: dict[str, object], *, now: datetime) -> dict[str, Any]: ...


class Escalations:
    """Each team is one unit of work and fails alone; each (case, level) is claimed by its outbox key."""

    def __init__(self, sessions: sessionmaker[Session], config: LoopbotConfig, cases: Cases | None = None, *,
                 leaders_post: LeadersPost | None = None):
        self.sessions = sessions
        self.config = config
        self.cases = cases or Cases(sessions, config)
        # Renders the leaders' channel post (bot.slack.blocks.escalation), handed in so the core imports no
        # Slack renderer; without one, escalations past twice an SLA go to the case thread only.
        self.leaders_post = leaders_post
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
        done: list[tuple[int, str]] = []
        with self.sessions.begin() as s:
            due = self._due(s, team, now)
            if not due:
                return []
            cases = {c.id: c for c in _chunked(s, select(Case), Case.id, list(due))}
            for case_id, levels in due.items():
                for d in levels:
                    if self._escalate(s, cases[case_id], team, d, now):
                        done.append((case_id, d.level))
        for case_id, level in done:
            log.info("FB-%d of team %s escalated at level %s", case_id, team.key, level)
        return done

    def _due(self, s: Session, team: Team, now: datetime) -> dict[int, list[Due]]:
        """Unresolved cases past a level they have not had, read from the partial index of unresolved cases."""
        acknowledged = exists().where(CaseEvent.case_id == Case.id, CaseEvent.kind.in_(sorted(ACK_KINDS)))
        # The ack deadline comes first (the config refuses ack > resolve): nothing younger can be due.
        rows = s.execute(
            select(Case.id, Case.opened_at, acknowledged.label("acknowledged"))
            .where(Case.team == team.key, UNRESOLVED, Case.opened_at < now - team.sla.ack)
        ).all()
        due = {r.id: due_levels(r.opened_at, r.acknowledged, team.sla, now) for r in rows}
        due = {case_id: levels for case_id, levels in due.items() if levels}
        # Levels already had, from the timeline (kept for good, unlike delivered posts, which retention purges).
        had = {(e.case_id, str((e.details or {}).get("level")))
               for e in _chunked(s, select(CaseEvent.case_id, CaseEvent.details).where(CaseEvent.kind == "escalated"),
                                 CaseEvent.case_id, list(due), scalars=False)}
        due = {case_id: [d for d in levels if (case_id, d.level) not in had] for case_id, levels in due.items()}
        return {case_id: levels for case_id, levels in due.items() if levels}

    def _escalate(self, s: Session, case: Case, team: Team, d: Due, now: datetime) -> bool:
        leaders = d.level in LEADER_LEVELS
        channel = self.config.leaders_channel if leaders else None
        details: dict[str, object] = {"level": d.level, "sla": fmt_duration(d.sla), "deadline": d.deadline.isoformat()}
        if leaders:
            details["channel"] = channel
        # The key decides, not the read above: of two replicas (or a restart mid-run) one appends the event.
        event = self.cases.add_event_once(s, case, "escalated", details, key=f"case:{case.id}:escalation:{d.level}",
                                          source=SOURCE, now=now)
        if event is None:
            return False
        if leaders and channel is not None and self.leaders_post is not None:
            message = self.leaders_post(case, team, details, now=now)
            enqueue(s, key=f"case:{case.id}:escalation:{d.level}:leaders", kind="post", channel=channel,
                    payload=message, now=now)
        elif leaders and not self._told_no_channel:
            self._told_no_channel = True
            log.warning("no leaders_channel is configured: escalations past twice an SLA go to the case threads only")
        return True


def _chunked(s: Session, query, column, ids: Sequence[int], *, scalars: bool = True) -> list:  # noqa: ANN001
    found: list = []
    for start in range(0, len(ids), _CHUNK):
        stmt = query.where(column.in_(ids[start:start + _CHUNK]))
        found += list(s.scalars(stmt) if scalars else s.execute(stmt))
    return found
