"""Overdue corrective actions (SPEC §8): escalated once to the owner and the team's supervisors when past due,
and once to the leaders at twice the time between planning and due date; once per level and round, across
restarts and replicas, by the posts' unique keys."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cases.action_rules import add_once
from bot.delivery.outbox import ACTION_ESCALATION, enqueue
from config.teams import LoopbotConfig
from storage.models import CorrectiveAction, OutboxMessage

log = logging.getLogger("loopbot.escalations")

SOURCE = "job"
ACTOR = "loopbot"
# As for cases: a deadline that passed longer ago than this is not escalated (a first start on an old
# backlog, a long outage), so Slack is not flooded with stale escalations.
HORIZON = timedelta(hours=24)


def key(action: CorrectiveAction, level: str) -> str:
    return f"action:{action.id}:r{action.round}:escalation:{level}"


def deadlines(action: CorrectiveAction) -> dict[str, datetime]:
    return {
        "owner": action.due_at,
        "leaders": action.planned_at + 2 * (action.due_at - action.planned_at),
    }


class ActionEscalations:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        reads: sessionmaker[Session] | None = None,
    ):
        self.sessions = sessions
        self.reads = reads or sessions
        self.config = config

    def run(self, now: datetime) -> list[tuple[str, str]]:
        """Escalate every planned action past a level it has not had; (CA ref, level) done by this run."""
        with self.reads.begin() as s:
            due = self._due(s, now)
        if not due:
            return []
        done: list[tuple[str, str]] = []
        with self.sessions.begin() as s:
            for action_id, level in due:
                action = s.get(CorrectiveAction, action_id)
                if (
                    action is not None
                    and action.state == "planned"
                    and self._escalate(s, action, level, now)
                ):
                    done.append((f"CA-{action.id}", level))
        for ref, level in done:
            log.info("%s escalated at level %s", ref, level)
        return done

    def _due(self, s: Session, now: datetime) -> list[tuple[int, str]]:
        overdue = list(
            s.scalars(
                select(CorrectiveAction).where(
                    CorrectiveAction.state == "planned", CorrectiveAction.due_at < now
                )
            )
        )
        wanted = {
            key(a, level): (a.id, level)
            for a in overdue
            if a.team in self.config.teams
            for level, deadline in deadlines(a).items()
            if now - HORIZON <= deadline < now
        }
        had = set(s.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(wanted))))
        return sorted(v for k, v in wanted.items() if k not in had)

    def _escalate(self, s: Session, action: CorrectiveAction, level: str, now: datetime) -> bool:
        team = self.config.teams[action.team]
        channel = action.owner if level == "owner" else self.config.leaders_channel
        details = {"level": level, "due": action.due_at.isoformat()}
        # The key decides, not the read above: of two replicas (or a restart mid-run) one writes the event.
        event = add_once(
            s,
            action,
            team.channel,
            "escalated",
            details,
            key=key(action, level),
            actor=ACTOR,
            source=SOURCE,
            now=now,
        )
        if event is None:
            return False
        if channel is not None:
            enqueue(
                s,
                key=f"{key(action, level)}:{'dm' if level == 'owner' else 'leaders'}",
                kind=ACTION_ESCALATION,
                channel=channel,
                payload={"action_id": action.id, "event_id": event.id},
                now=now,
            )
        return True
