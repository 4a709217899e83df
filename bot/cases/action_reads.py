"""Reading corrective actions: one with its timeline and cases, lists, a person's own, and the verified fixes
suggested when resolving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.cases.action_model import (
    OPEN_STATES,
    ActionDetail,
    ActionEventRecord,
    ActionRecord,
    LinkedCase,
    parse_action_ref,
)
from bot.errors import NotFound
from config.teams import LoopbotConfig
from storage.models import ActionEvent, Case, CorrectiveAction

_LOAD = select(CorrectiveAction).where(CorrectiveAction.id == bindparam("action_id"))
SUGGESTIONS = 3


class ActionReads:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        reads: sessionmaker[Session] | None = None,
    ):
        self.sessions = sessions
        self.reads = reads or sessions
        self.config = config

    # -- reading -------------------------------------------------------------------------------------

    def get(self, ref: str | int) -> ActionDetail:
        with self.reads.begin() as s:
            row = self._load(s, ref)
            events = s.scalars(
                select(ActionEvent).where(ActionEvent.action_id == row.id).order_by(ActionEvent.id)
            )
            cases = s.execute(
                select(Case.id, Case.state).where(Case.action_id == row.id).order_by(Case.id)
            )
            return ActionDetail(
                ActionRecord.of(row),
                [ActionEventRecord.of(e) for e in events],
                [LinkedCase(i, state) for i, state in cases],
            )

    def listed(
        self, teams: list[str] | None, filter: str, now: datetime, limit: int = 50
    ) -> list[ActionRecord]:
        """`filter`: open (planned or done), overdue (planned past due) or all; newest due last."""
        query = select(CorrectiveAction)
        if teams is not None:
            query = query.where(CorrectiveAction.team.in_(teams))
        if filter == "open":
            query = query.where(CorrectiveAction.state.in_(OPEN_STATES))
        elif filter == "overdue":
            query = query.where(CorrectiveAction.state == "planned", CorrectiveAction.due_at < now)
        order = CorrectiveAction.id.desc() if filter == "all" else CorrectiveAction.due_at
        with self.reads.begin() as s:
            return [ActionRecord.of(r) for r in s.scalars(query.order_by(order).limit(limit))]

    def owned_by(self, user: str) -> list[ActionRecord]:
        """A person's open actions, soonest due first (App Home)."""
        query = (
            select(CorrectiveAction)
            .where(CorrectiveAction.owner == user, CorrectiveAction.state.in_(OPEN_STATES))
            .order_by(CorrectiveAction.due_at)
            .limit(20)
        )
        with self.reads.begin() as s:
            return [ActionRecord.of(r) for r in s.scalars(query)]

    def open_for(self, team: str, cause: str | None = None) -> list[ActionRecord]:
        """Open actions a case of `team` may attach to (of its cause, if given), newest first."""
        query = select(CorrectiveAction).where(
            CorrectiveAction.team == team, CorrectiveAction.state.in_(OPEN_STATES)
        )
        if cause is not None:
            query = query.where(CorrectiveAction.cause == cause)
        with self.reads.begin() as s:
            return [
                ActionRecord.of(r)
                for r in s.scalars(query.order_by(CorrectiveAction.id.desc()).limit(20))
            ]

    def suggestions(self, cause: str) -> list[str]:
        """The corrective actions most often recorded for `cause` among fixes that were verified."""
        text = func.min(CorrectiveAction.text)
        query = (
            select(text)
            .where(CorrectiveAction.cause == cause, CorrectiveAction.state == "verified")
            .group_by(func.lower(CorrectiveAction.text))
            .order_by(func.count().desc(), func.max(CorrectiveAction.id).desc())
            .limit(SUGGESTIONS)
        )
        with self.reads.begin() as s:
            return list(s.scalars(query))

    def _load(self, s: Session, ref: str | int) -> CorrectiveAction:
        action_id = parse_action_ref(ref)
        row = s.scalars(_LOAD, {"action_id": action_id}).one_or_none()
        if row is None:
            raise NotFound(
                f"There is no corrective action CA-{action_id}. `actions` lists the open ones.",
                field="attach",
            )
        return row
