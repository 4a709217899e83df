"""The case lifecycle: open, acknowledge, assign, note, resolve, reopen, recover — each one timeline event."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from bot import scores
from bot.cases import checks
from bot.cases.checks import (
    SYSTEM_ACTOR,
    already,
    last_event,
    lost_race,
    no_case,
    not_in,
    required_text,
    team_of,
    when,
)
from bot.cases.permissions import Action, require
from bot.cases.timings import Timings, derive
from bot.clock import utcnow
from bot.delivery.outbox import enqueue, enqueue_many
from bot.errors import AlreadyDone, InvalidInput
from config.teams import LoopbotConfig, Team
from storage.models import Case, CaseEvent, Feedback

__all__ = ["CaseChange", "CaseDetail", "Cases", "NewFeedbackCase", "Observer"]

NOTE_REPEAT = timedelta(minutes=5)
# Built once: building a statement and its cache key costs more than running it.
_INSERT_EVENT = insert(CaseEvent).returning(CaseEvent.id)
_LOAD = select(Case).where(Case.id == bindparam("case_id"))
_EVENTS = select(CaseEvent).where(CaseEvent.case_id == bindparam("case_id")).order_by(CaseEvent.id)
_COMMENT = select(Feedback.comment).where(Feedback.id == bindparam("feedback_id"))
_REF = re.compile(r"^\s*(?:fb-|#)?(\d{1,18})\s*$", re.IGNORECASE)


def _case_id(ref: str | int) -> int:
    return ref if isinstance(ref, int) else parse_ref(ref)


def parse_ref(text: str) -> int:
    """Accept FB-12, fb-12, #12 and 12 (SPEC §2)."""
    m = _REF.match(text or "")
    if not m:
        raise InvalidInput(f"{text!r} is not a case id; write it like FB-12", field="case")
    return int(m.group(1))


@dataclass(frozen=True)
class CaseChange:
    """What a lifecycle call did: the case after the change and the event it wrote."""

    case: Case
    event: CaseEvent


@dataclass(frozen=True)
class NewFeedbackCase:
    feedback_id: int
    team: str
    metric: str
    score: int
    category: str | None
    segment: str | None
    customer: str | None
    submitted_at: datetime


# Given the session, the case as loaded, its team and the event's details (which it may complete): the
# columns the change sets, or it raises what to tell the person (bot.cases.checks).
Check = Callable[[Session, Case, Team, dict[str, Any]], dict[str, Any]]
# (the change, the state the case was in before it)
Observer = Callable[[CaseChange, str], None]


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    events: list[CaseEvent]
    comment: str | None  # None once retention has purged the feedback
    timings: Timings


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

    # -- opening ---------------------------------------------------------------------------

    def open_feedback_cases(
        self, s: Session, new: Sequence[NewFeedbackCase], source: str, now: datetime
    ) -> list[Case]:
        """Open one case per negative response, inside the caller's ingestion transaction."""
        return self._open(
            s,
            [
                Case(
                    kind="feedback",
                    team=n.team,
                    state="open",
                    version=1,
                    severity=scores.severity(n.metric, n.score),
                    opened_at=now,
                    feedback_id=n.feedback_id,
                    summary={
                        "metric": n.metric,
                        "score": n.score,
                        "category": n.category,
                        "segment": n.segment,
                        "customer": n.customer,
                        "submitted_at": n.submitted_at.isoformat(),
                    },
                )
                for n in new
            ],
            source,
            now,
        )

    def open_threshold_case(
        self,
        s: Session,
        *,
        team: str,
        rule_key: str,
        severity: str,
        summary: dict[str, Any],
        source: str,
        now: datetime,
    ) -> Case | None:
        """Open the case of a rule's breach inside the caller's unit of work; None when the breach has its case
        already. The unique `active_rule` decides, so of two evaluations at once (replicas) only one opens it."""
        case = Case(
            kind="threshold",
            team=team,
            state="open",
            version=1,
            severity=severity,
            opened_at=now,
            summary=summary,
            rule_key=rule_key,
            active_rule=rule_key,
        )
        try:
            # A savepoint: PostgreSQL aborts the whole transaction on an error; this keeps the rest of the unit.
            with s.begin_nested():
                self._open(s, [case], source, now)
        except IntegrityError:
            return None
        return case

    def _open(self, s: Session, cases: list[Case], source: str, now: datetime) -> list[Case]:
        """The one opening path: the rows, an `opened` event each, and each case's post to its team's channel."""
        if not cases:
            return []
        channels = {c.team: self._team(c.team).channel for c in cases}
        s.add_all(cases)
        s.flush()
        s.execute(
            insert(CaseEvent),
            [
                {
                    "case_id": c.id,
                    "kind": "opened",
                    "actor": SYSTEM_ACTOR,
                    "source": source,
                    "at": now,
                    "details": {},
                }
                for c in cases
            ],
        )
        enqueue_many(
            s,
            [
                {
                    "key": f"case:{c.id}:open",
                    "kind": "case.open",
                    "channel": channels[c.team],
                    "payload": {"case_id": c.id},
                }
                for c in cases
            ],
            now,
        )
        return cases

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
                self._team(case.team).sla,
            )
            return CaseDetail(case, events, comment, timings)

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
                    f"That note is already on {case.ref} (added at {when(last.at, self._team(case.team))}).",
                    by=actor,
                )
            event = self._event(s, case, "note", actor, source, now, {"text": text})
            return CaseChange(case, event)

    def resolve(
        self,
        ref: str | int,
        *,
        outcome: str,
        root_cause: str,
        action: str,
        rationale: str | None = None,
        actor: str,
        source: str,
        now: datetime | None = None,
    ) -> CaseChange:
        def check(s: Session, case: Case, team: Team, details: dict[str, Any]) -> dict[str, Any]:
            return checks.resolve(
                s,
                case,
                team,
                self.config,
                actor,
                outcome=outcome,
                root_cause=root_cause,
                action=action,
                rationale=rationale,
                details=details,
            )

        return self._change(
            ref,
            "resolved",
            actor,
            source,
            now,
            check,
            {"outcome": outcome, "root_cause": root_cause},
        )

    def reopen(
        self, ref: str | int, reason: str, *, actor: str, source: str, now: datetime | None = None
    ) -> CaseChange:
        def check(s: Session, case: Case, team: Team, details: dict[str, Any]) -> dict[str, Any]:
            return checks.reopen(s, case, team, self.config, actor, reason, details)

        return self._change(ref, "reopened", actor, source, now, check, {})

    # -- changes made by jobs, inside the job's unit of work --------------------------------------

    def recover(
        self, s: Session, case: Case, details: dict[str, Any], *, source: str, now: datetime
    ) -> CaseChange | None:
        """End a threshold case's breach: its rule is free for the next breach's case, and the message and thread
        say so. None when another evaluation recovered it first. No version bump: the case's state is untouched,
        so a person acknowledging it at the same moment must not lose a race over it."""
        if case.active_rule is None:
            return None
        won = (
            s.execute(
                update(Case)
                .where(Case.id == case.id, Case.active_rule == case.active_rule)
                .values(active_rule=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
        if not won:
            return None
        set_committed_value(case, "active_rule", None)
        return CaseChange(
            case, self._event(s, case, "recovered", SYSTEM_ACTOR, source, now, details)
        )

    def add_event_once(
        self,
        s: Session,
        case: Case,
        kind: str,
        details: dict[str, Any],
        *,
        key: str,
        source: str,
        now: datetime,
    ) -> CaseEvent | None:
        """Append an event whose thread post carries `key`, unless a post with that key exists: the key (not a
        read beforehand) makes it happen once across restarts and replicas. None when it existed."""
        try:
            with s.begin_nested():
                event = self._append(s, case, kind, SYSTEM_ACTOR, source, now, details)
                if not self._post_event(s, case, event, key, now):
                    raise _Taken  # undo the event: its post exists already
        except _Taken:
            return None
        return event

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
            change = CaseChange(case, self._event(s, case, kind, actor, source, now, details))
        if self.observer is not None:
            self.observer(change, before)
        return change

    def _event(
        self,
        s: Session,
        case: Case,
        kind: str,
        actor: str,
        source: str,
        now: datetime,
        details: dict[str, Any],
    ) -> CaseEvent:
        event = self._append(s, case, kind, actor, source, now, details)
        self._post_event(s, case, event, None, now)
        return event

    def _append(
        self,
        s: Session,
        case: Case,
        kind: str,
        actor: str,
        source: str,
        now: datetime,
        details: dict[str, Any],
    ) -> CaseEvent:
        row = {
            "case_id": case.id,
            "kind": kind,
            "actor": actor,
            "source": source,
            "at": now,
            "details": details,
        }
        # Core INSERT … RETURNING: an append-only row needs none of the unit of work's bookkeeping.
        return CaseEvent(id=s.execute(_INSERT_EVENT, row).scalar_one(), **row)

    def _post_event(
        self, s: Session, case: Case, event: CaseEvent, key: str | None, now: datetime
    ) -> bool:
        """The event's post, under `key` if given; False when that key was taken."""
        post = event_post(self._team(case.team).channel, event)
        return enqueue(s, **{**post, "key": key or post["key"]}, now=now)

    def _load(self, s: Session, ref: str | int) -> Case:
        case_id = _case_id(ref)
        case = s.scalars(_LOAD, {"case_id": case_id}).one_or_none()
        if case is None:
            raise no_case(case_id)
        return case

    def _team(self, key: str) -> Team:
        return team_of(self.config, key)


def event_post(channel: str | None, event: CaseEvent) -> dict[str, Any]:
    """An event's post (the case message updated in place, one thread line), keyed by the event."""
    return {
        "key": f"case:{event.case_id}:event:{event.id}",
        "kind": "case.event",
        "channel": channel,
        "payload": {"case_id": event.case_id, "event_id": event.id},
    }


@functools.cache
def _conditional_update(columns: tuple[str, ...]) -> Update:
    """UPDATE … WHERE id = ? AND version = ?, one statement per set of changed columns, built once."""
    return (
        update(Case)
        .where(Case.id == bindparam("b_id"), Case.version == bindparam("b_version"))
        .values(version=bindparam("b_next"), **{c: bindparam(f"b_{c}") for c in columns})
        .execution_options(synchronize_session=False)
    )


class _Taken(Exception):
    """Rolls back the savepoint of an event whose keyed post exists already."""
