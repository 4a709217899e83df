"""Corrective actions (SPEC §8): plan, attach a case, done, drop, reopen; each change one unit of work with
its timeline event and its post, like a case's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases import recurrence
from bot.cases.action_model import (
    OPEN_STATES,
    ActionChange,
    ActionEventRecord,
    ActionRecord,
    parse_owner,
    parse_when,
)
from bot.cases.action_reads import ActionReads
from bot.cases.action_rules import (
    append_event,
    check_cause,
    check_due,
    domain_of,
    link,
    metric_of,
    touchpoints_of,
)
from bot.cases.checks import required_text, team_of
from bot.cases.permissions import Action, named_team, require
from bot.clock import utcnow
from bot.delivery.outbox import ACTION_OPEN, enqueue
from bot.errors import AlreadyDone, InvalidInput, InvalidTransition
from config.teams import Team
from storage.models import ActionEvent, Case, CorrectiveAction

_LOAD = select(CorrectiveAction).where(CorrectiveAction.id == bindparam("action_id"))
_INSERT_EVENT = insert(ActionEvent).returning(ActionEvent.id)
SUGGESTIONS = 3

# Given the session, the action as loaded and its team: the columns the change sets, or it raises.
Check = Callable[[Session, CorrectiveAction, Team, dict[str, Any]], dict[str, Any]]


class CorrectiveActions(ActionReads):
    """Each public method is one unit of work; the `_in` methods run inside a caller's (resolving a case)."""

    # -- changes -------------------------------------------------------------------------------------

    def plan(
        self,
        team: str,
        *,
        cause: str,
        due: str,
        owner: str,
        text: str,
        actor: str,
        source: str,
        now: datetime | None = None,
    ) -> ActionChange:
        """A corrective action not born from a case (`plan`)."""
        now = now or utcnow()
        the_team = named_team(self.config, team)
        require(self.config, the_team, actor, Action.PLAN, the_team.name)
        owner = actor if owner == "me" else owner
        with self.sessions.begin() as s:
            row, event = self.plan_in(
                s,
                the_team,
                cause=check_cause(self.config, cause),
                due=check_due(parse_when(due, the_team.tz, "due"), now),
                owner=parse_owner(owner),
                text=required_text(text, "text", "Say what changes, after the owner."),
                actor=actor,
                source=source,
                now=now,
            )
            return ActionChange(ActionRecord.of(row), event)

    def plan_in(
        self,
        s: Session,
        team: Team,
        *,
        cause: str,
        due: datetime,
        owner: str,
        text: str,
        actor: str,
        source: str,
        now: datetime,
        case: Case | None = None,
    ) -> tuple[CorrectiveAction, ActionEventRecord]:
        """Create the action, its message and `planned` event, inside the caller's unit; a systemic case of
        the cause is closed by it."""
        row = CorrectiveAction(
            team=team.key,
            cause=cause,
            domain=domain_of(self.config, cause),
            text=text,
            owner=owner,
            state="planned",
            version=1,
            round=1,
            planned_at=now,
            due_at=due,
            metric=metric_of(case),
            touchpoints=touchpoints_of(s, case),
        )
        s.add(row)
        s.flush()
        enqueue(
            s,
            key=f"action:{row.id}:open",
            kind=ACTION_OPEN,
            channel=team.channel,
            payload={"action_id": row.id},
            now=now,
        )
        details: dict[str, Any] = {"due": due.isoformat(), "owner": owner}
        if case is not None:
            details["case"] = case.ref
            link(s, case, row.id)
        event = self._event(s, row, "planned", actor, source, now, details, post=False)
        recurrence.close_systemic(s, self.config, team, row, actor=actor, source=source, now=now)
        return row, event

    def attach_in(
        self,
        s: Session,
        ref: str | int,
        case: Case,
        cause: str,
        *,
        actor: str,
        source: str,
        now: datetime,
    ) -> CorrectiveAction:
        """Attach a just-resolved case to an open action of its team and cause (inside its unit)."""
        row = self._load(s, ref)
        if row.team != case.team:
            raise InvalidInput(
                f"{row.ref} belongs to team `{row.team}`, not `{case.team}`; `actions` lists this "
                "team's.",
                field="attach",
            )
        if row.state not in OPEN_STATES:
            raise InvalidInput(
                f"{row.ref} is {row.state.replace('_', ' ')}; attach the case to an open action or "
                "plan a new one.",
                field="attach",
            )
        if row.cause != cause:
            raise InvalidInput(
                f"{row.ref} is about {row.cause}, not {cause}; pick an action of the same cause.",
                field="attach",
            )
        link(s, case, row.id)
        touchpoints = touchpoints_of(s, case)
        if touchpoints and not set(touchpoints) <= set(row.touchpoints or []):
            row.touchpoints = sorted({*(row.touchpoints or []), *touchpoints})
        self._event(s, row, "attached", actor, source, now, {"case": case.ref})
        return row

    def done(
        self,
        ref: str | int,
        *,
        live: str | None,
        text: str,
        actor: str,
        source: str,
        now: datetime | None = None,
    ) -> ActionChange:
        now = now or utcnow()

        def check(
            s: Session, row: CorrectiveAction, team: Team, details: dict[str, Any]
        ) -> dict[str, Any]:
            if actor != row.owner:
                require(self.config, team, actor, Action.DONE, row.ref)
            if row.state == "done":
                raise self._already(s, row, team, "done")
            if row.state != "planned":
                raise InvalidTransition(
                    f"{row.ref} is {row.state.replace('_', ' ')}; only planned actions can be marked done."
                )
            when = parse_when(live, team.tz, "live") if live else now
            if when > now:
                raise InvalidInput(
                    f"live={live} is in the future; mark the action done once the change is live.",
                    field="live",
                )
            details["live"] = when.isoformat()
            details["text"] = required_text(text, "text", "Say what was changed, after the id.")
            return {"state": "done", "live_at": when}

        return self._change(ref, "done", actor, source, now, check)

    def drop(
        self, ref: str | int, reason: str, *, actor: str, source: str, now: datetime | None = None
    ) -> ActionChange:
        def check(
            s: Session, row: CorrectiveAction, team: Team, details: dict[str, Any]
        ) -> dict[str, Any]:
            require(self.config, team, actor, Action.DROP, row.ref)
            if row.state == "dropped":
                raise self._already(s, row, team, "dropped")
            if row.state not in OPEN_STATES:
                raise InvalidTransition(
                    f"{row.ref} is {row.state.replace('_', ' ')}; only planned or done actions can be dropped."
                )
            details["reason"] = required_text(
                reason, "reason", "Say why it is dropped, after the id."
            )
            return {"state": "dropped"}

        return self._change(ref, "dropped", actor, source, now or utcnow(), check)

    def reopen(
        self, ref: str | int, *, actor: str, source: str, now: datetime | None = None
    ) -> ActionChange:
        """A fix that did not verify goes back to planned, due as long after today as it first was."""
        now = now or utcnow()

        def check(
            s: Session, row: CorrectiveAction, team: Team, details: dict[str, Any]
        ) -> dict[str, Any]:
            require(self.config, team, actor, Action.REOPEN_ACTION, row.ref)
            if row.state == "planned":
                raise self._already(s, row, team, "planned")
            if row.state not in ("not_verified", "inconclusive"):
                raise InvalidTransition(
                    f"{row.ref} is {row.state.replace('_', ' ')}; only a fix that was not verified "
                    "(or was inconclusive) can be reopened."
                )
            due = now + (row.due_at - row.planned_at)
            details["due"] = due.isoformat()
            return {"state": "planned", "round": row.round + 1, "live_at": None, "due_at": due}

        return self._change(ref, "reopened", actor, source, now, check)

    # -- internals ------------------------------------------------------------------------------------

    def _change(
        self, ref: str | int, kind: str, actor: str, source: str, now: datetime, check: Check
    ) -> ActionChange:
        """Load, check, UPDATE … WHERE version = the version read, event and post, in one unit of work:
        of two clicks at once exactly one changes the action, the other is told who won."""
        with self.sessions.begin() as s:
            row = self._load(s, ref)
            team = team_of(self.config, row.team)
            details: dict[str, Any] = {}
            values = check(s, row, team, details)
            won = s.execute(
                update(CorrectiveAction)
                .where(CorrectiveAction.id == row.id, CorrectiveAction.version == row.version)
                .values(version=row.version + 1, **values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won != 1:
                s.refresh(row)
                raise self._already(s, row, team, row.state)
            for name, value in {"version": row.version + 1, **values}.items():
                set_committed_value(row, name, value)
            event = self._event(s, row, kind, actor, source, now, details)
            return ActionChange(ActionRecord.of(row), event)

    def _event(
        self,
        s: Session,
        row: CorrectiveAction,
        kind: str,
        actor: str,
        source: str,
        now: datetime,
        details: dict[str, Any],
        *,
        post: bool = True,
    ) -> ActionEventRecord:
        channel = team_of(self.config, row.team).channel
        return append_event(s, row, channel, kind, actor, source, now, details, post=post)

    def _already(self, s: Session, row: CorrectiveAction, team: Team, state: str) -> AlreadyDone:
        kinds = {"done": "done", "dropped": "dropped", "planned": "reopened"}.get(state, state)
        last = s.scalar(
            select(ActionEvent)
            .where(ActionEvent.action_id == row.id, ActionEvent.kind == kinds)
            .order_by(ActionEvent.id.desc())
            .limit(1)
        )
        shown = state.replace("_", " ")
        if last is None:
            return AlreadyDone(f"{row.ref} is already {shown}.")
        return AlreadyDone(
            f"{row.ref} was already {shown} by {{user}} at {{at}}.",
            user=last.actor,
            at=last.at,
            tz=team.tz,
        )
