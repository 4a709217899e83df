"""What people do to a case — acknowledge, assign, note, resolve, reopen — each one unit of work and one
timeline event; and reading a case with its timeline."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases import checks, recurrence, timeline
from bot.cases.action_model import NewAction, parse_owner, parse_when, why_lines
from bot.cases.action_rules import check_due
from bot.cases.actions import CorrectiveActions
from bot.cases.checks import (
    already,
    last_event,
    lost_race,
    no_case,
    not_in,
    required_text,
    team_of,
)
from bot.cases.model import (
    CaseChange,
    CaseDetail,
    CaseRecord,
    EventRecord,
    Observer,
    parse_ref,
)
from bot.cases.permissions import Action, require
from bot.cases.timings import derive
from bot.clock import utcnow
from bot.errors import AlreadyDone, InvalidInput
from config.teams import LoopbotConfig, Team
from storage.models import Case, CaseEvent, Feedback

NOTE_REPEAT = timedelta(minutes=5)
# Built once: building a statement and its cache key costs more than running it.
_LOAD = select(Case).where(Case.id == bindparam("case_id"))
_EVENTS = select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.id)
_COMMENT = select(Feedback.comment).where(Feedback.id == bindparam("feedback_id"))


def _case_id(ref: str | int) -> int:
    return ref if isinstance(ref, int) else parse_ref(ref)


# Given the session, the case as loaded, its team and the event's details (which it may complete): the
# columns the change sets, or it raises what to tell the person (bot.cases.checks).
Check = Callable[[Session, Case, Team, dict[str, Any]], dict[str, Any]]
# Run in the same unit after the UPDATE, before the event is written (it may complete the details).
Then = Callable[[Session, Case, Team, dict[str, Any]], None]


class Cases:
    """Lifecycle operations; each public method is one unit of work."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: LoopbotConfig,
        observer: Observer | None = None,
        reads: sessionmaker[Session] | None = None,
    ):
        self.sessions = sessions
        # Units that only read take no write lock on SQLite (storage.db.make_read_sessions).
        self.reads = reads or sessions
        self.config = config
        # Told of every committed state change (metrics); never part of the unit of work.
        self.observer = observer
        self.actions = CorrectiveActions(sessions, config, reads=self.reads)

    # -- opening ---------------------------------------------------------------------------

    # -- reading ---------------------------------------------------------------------------

    def get(self, ref: str | int) -> CaseDetail:
        with self.reads.begin() as s:
            case = self._load(s, ref)
            events = list(s.scalars(_EVENTS, {"case_id": case.id}))
            comment = None
            if case.feedback_id is not None:
                comment = s.scalar(_COMMENT, {"feedback_id": case.feedback_id})
            timings = derive(
                case.opened_at,
                case.state,
                ((e.kind, e.at) for e in events),
                self._team(case.team).sla_for(case.segment),
            )
            return CaseDetail(
                CaseRecord.of(case), [EventRecord.of(e) for e in events], comment, timings
            )

    def get_for(self, ref: str | int, actor: str, action: Action) -> CaseDetail:
        """The case, if `actor` may do `action` to it now (checked before a modal is opened for it)."""
        detail = self.get(ref)
        case, team = detail.case, self._team(detail.case.team)
        require(self.config, team, actor, action, case.ref)
        with self.reads.begin() as s:
            if action is Action.RESOLVE and case.state == "resolved":
                raise already(s, case, team, "resolved")
            if action is Action.REOPEN and case.state != "resolved":
                raise not_in(s, case, team, "reopen it", hint="only resolved cases can be reopened")
        return detail

    # -- changes ---------------------------------------------------------------------------

    def acknowledge(
        self, ref: str | int, *, actor: str, source: str, now: datetime | None = None
    ) -> CaseChange:
        def check(s: Session, case: Case, team: Team, details: dict[str, Any]) -> dict[str, Any]:
            return checks.acknowledge(s, case, team, self.config, actor)

        return self._change(ref, "acknowledged", actor, source, now, check, {})

    def assign(
        self, ref: str | int, assignee: str, *, actor: str, source: str, now: datetime | None = None
    ) -> CaseChange:
        def check(s: Session, case: Case, team: Team, details: dict[str, Any]) -> dict[str, Any]:
            return checks.assign(s, case, team, self.config, actor, assignee, details)

        return self._change(ref, "assigned", actor, source, now, check, {"assignee": assignee})

    def note(
        self, ref: str | int, text: str, *, actor: str, source: str, now: datetime | None = None
    ) -> CaseChange:
        text = required_text(
            text,
            "note",
            "Write the note after the case id, e.g. `note FB-12 called the customer back`.",
        )
        now = now or utcnow()
        with self.sessions.begin() as s:
            case = self._load(s, ref)
            require(self.config, self._team(case.team), actor, Action.NOTE, case.ref)
            # A note changes no state, so it never conflicts: no version check. The same note from the
            # same person moments apart is a repeat (a retried request, a second Enter), not a new note.
            last = last_event(s, case, ("note",))
            if (
                last
                and last.actor == actor
                and last.details.get("text") == text
                and now - last.at < NOTE_REPEAT
            ):
                raise AlreadyDone(
                    f"That note is already on {case.ref} (added at {{at}}).",
                    user=actor,
                    at=last.at,
                    tz=self._team(case.team).tz,
                )
            event = timeline.record(
                s, self._team(case.team).channel, case, "note", actor, source, now, {"text": text}
            )
            return CaseChange.of(case, event)

    def resolve(
        self,
        ref: str | int,
        *,
        outcome: str,
        root_cause: str,
        action: str,
        rationale: str | None = None,
        whys: str | list[str] | None = None,
        corrective: NewAction | None = None,
        attach: str | int | None = None,
        actor: str,
        source: str,
        now: datetime | None = None,
    ) -> CaseChange:
        """Resolve with the whole record of SPEC §8: outcome, cause (and its domain), what was done, a
        rationale, the whys, and a corrective action planned now or an open one the case attaches to."""
        now = now or utcnow()
        why_list = why_lines(whys)
        if corrective is not None and attach is not None:
            raise InvalidInput(
                "Either plan a new corrective action or attach to an open one, not both.",
                field="attach",
            )

        def check(s: Session, case: Case, team: Team, details: dict[str, Any]) -> dict[str, Any]:
            values = checks.resolve(
                s,
                case,
                team,
                self.config,
                actor,
                outcome=outcome,
                root_cause=root_cause,
                action=action,
                rationale=rationale,
                whys=why_list,
                details=details,
            )
            if corrective is not None:
                # Checked before anything is written, so a bad owner or date changes nothing.
                details["_new"] = {
                    "text": required_text(
                        corrective.text,
                        "corrective",
                        "Say what changes so it does not happen again.",
                    ),
                    "owner": parse_owner(actor if corrective.owner == "me" else corrective.owner),
                    "due": check_due(parse_when(corrective.due, team.tz, "due"), now),
                }
            return values

        def then(s: Session, case: Case, team: Team, details: dict[str, Any]) -> None:
            new = details.pop("_new", None)
            if new is not None:
                row, _ = self.actions.plan_in(
                    s, team, cause=root_cause, actor=actor, source=source, now=now, case=case, **new
                )
                details["corrective"] = row.ref
            elif attach is not None:
                row = self.actions.attach_in(
                    s, attach, case, root_cause, actor=actor, source=source, now=now
                )
                details["corrective"] = row.ref

        def after(s: Session, case: Case, team: Team) -> None:
            if outcome != "duplicate" and case.kind != "systemic":
                recurrence.check_systemic(s, self.config, team, root_cause, source=source, now=now)

        return self._change(
            ref,
            "resolved",
            actor,
            source,
            now,
            check,
            {"outcome": outcome, "root_cause": root_cause},
            then=then,
            after=after,
        )

    def resolve_in_one_line(
        self,
        ref: str | int,
        *,
        outcome: str,
        root_cause: str,
        text: str,
        attach: str | int | None = None,
        actor: str,
        source: str,
        now: datetime | None = None,
    ) -> CaseChange:
        """A resolution written on one line (the slash command): its text says what was done, and for
        `no_action` it is the rationale too, as the line has no other place for one."""
        rationale = text if outcome == "no_action" else None
        return self.resolve(
            ref,
            outcome=outcome,
            root_cause=root_cause,
            action=text,
            rationale=rationale,
            attach=attach,
            actor=actor,
            source=source,
            now=now,
        )

    def reopen(
        self, ref: str | int, reason: str, *, actor: str, source: str, now: datetime | None = None
    ) -> CaseChange:
        def check(s: Session, case: Case, team: Team, details: dict[str, Any]) -> dict[str, Any]:
            return checks.reopen(s, case, team, self.config, actor, reason, details)

        return self._change(ref, "reopened", actor, source, now, check, {})

    # -- internals -------------------------------------------------------------------------

    def _change(
        self,
        ref: str | int,
        kind: str,
        actor: str,
        source: str,
        now: datetime | None,
        check: Check,
        details: dict[str, Any],
        *,
        then: Then | None = None,
        after: Callable[[Session, Case, Team], None] | None = None,
    ) -> CaseChange:
        """The one change path: load, check, UPDATE … WHERE version = the version read, event and post, in one
        unit of work. Of two people acting at once exactly one matches the version; the other is told who won."""
        now = now or utcnow()
        with self.sessions.begin() as s:
            case = self._load(s, ref)
            team = self._team(case.team)
            before = case.state
            values = check(s, case, team, details)
            params = {
                "b_id": case.id,
                "b_version": case.version,
                "b_next": case.version + 1,
                **{f"b_{name}": value for name, value in values.items()},
            }
            if s.execute(_conditional_update(tuple(sorted(values))), params).rowcount != 1:
                raise lost_race(s, case, team, kind)
            # What the UPDATE wrote, set on the loaded case without another SELECT (and without dirtying it).
            for name, value in {"version": case.version + 1, **values}.items():
                set_committed_value(case, name, value)
            if then is not None:
                then(s, case, team, details)
            change = CaseChange.of(
                case, timeline.record(s, team.channel, case, kind, actor, source, now, details)
            )
            if after is not None:
                after(s, case, team)
        if self.observer is not None:
            self.observer(change, before)
        return change

    def _load(self, s: Session, ref: str | int) -> Case:
        case_id = _case_id(ref)
        case = s.scalars(_LOAD, {"case_id": case_id}).one_or_none()
        if case is None:
            raise no_case(case_id)
        return case

    def _team(self, key: str) -> Team:
        return team_of(self.config, key)


@functools.cache
def _conditional_update(columns: tuple[str, ...]) -> Update:
    """UPDATE … WHERE id = ? AND version = ?, one statement per set of changed columns, built once."""
    return (
        update(Case)
        .where(Case.id == bindparam("b_id"), Case.version == bindparam("b_version"))
        .values(version=bindparam("b_next"), **{c: bindparam(f"b_{c}") for c in columns})
        .execution_options(synchronize_session=False)
    )
