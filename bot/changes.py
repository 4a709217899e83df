"""A batch of case changes in one unit of work: what `Cases` applies for each group commit (bot.group)."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from bot.checks import Check, team_of
from bot.errors import NotFound, UserFacingError
from bot.outbox import enqueue_many
from config.teams import LoopbotConfig, Team
from storage.models import Case, CaseEvent

# Locked for the rest of the unit of work (FOR UPDATE on PostgreSQL; a SQLite write transaction is exclusive
# already), in id order so that two replicas' batches never wait for each other in a cycle.
_LOAD = select(Case).where(Case.id.in_(bindparam("ids", expanding=True))).order_by(Case.id).with_for_update()
# Many rows in one statement (insertmanyvalues); a batch holds each case once, so case_id says which is which.
_INSERT_EVENTS = insert(CaseEvent).returning(CaseEvent.case_id, CaseEvent.id)


@dataclass(frozen=True)
class CaseChange:
    """What a lifecycle call did: the case after the change and the event it wrote."""

    case: Case
    event: CaseEvent


# Each request's outcome: (the change, the state the case was in before it), or the error it alone raised.
Outcome = tuple[CaseChange, str] | BaseException


@dataclass(frozen=True)
class ChangeRequest:
    case_id: int
    kind: str  # the event it writes: acknowledged, assigned, resolved, reopened
    actor: str
    source: str
    now: datetime
    check: Check
    details: dict[str, Any]


def apply_batch(sessions: sessionmaker[Session], requests: Sequence[ChangeRequest], config: LoopbotConfig) -> list[Outcome]:
    """Apply a batch in one unit of work; if that fails, each request alone, so that one request's failure
    (or the database's, for that moment) is that request's only. A failed unit wrote nothing."""
    try:
        with sessions.begin() as s:
            return apply_changes(s, requests, config)
    except Exception as error:  # noqa: BLE001 - handed to the request's caller, who raises it
        if len(requests) == 1:
            return [error]
    return [apply_batch(sessions, [r], config)[0] for r in requests]


def apply_changes(s: Session, requests: Sequence[ChangeRequest], config: LoopbotConfig) -> list[Outcome]:
    """The changes of a batch, each case at most once: load and lock the cases, check each request, one
    UPDATE per set of new values, then one INSERT of the events and one of their posts. Of two people acting
    on a case at once, the second is checked against what the first committed (and told who it was)."""
    cases = {c.id: c for c in s.scalars(_LOAD, {"ids": [r.case_id for r in requests]})}
    outcomes: list[Outcome] = [no_case(r.case_id) for r in requests]  # until found below
    checked: dict[tuple[tuple[str, Any], ...], list[tuple[int, Case, Team, dict[str, Any]]]] = {}
    for i, r in enumerate(requests):
        if (case := cases.get(r.case_id)) is None:
            continue
        try:
            team = team_of(config, case.team)
            values = r.check(s, case, team, config, r.details)
        except UserFacingError as error:
            outcomes[i] = error
            continue
        checked.setdefault(tuple(sorted(values.items())), []).append((i, case, team, values))
    won: list[tuple[int, Case, Team, str]] = []
    for values_key, group in checked.items():
        # The cases are locked since they were read, so what was checked still holds: no version test.
        s.execute(_set_columns(tuple(name for name, _ in values_key)),
                  {**{f"b_{name}": value for name, value in values_key}, "b_ids": [case.id for _, case, _, _ in group]})
        for i, case, team, values in group:
            # What the UPDATE wrote, set on the loaded case without another SELECT (and without dirtying it).
            before = case.state
            for name, value in {"version": case.version + 1, **values}.items():
                set_committed_value(case, name, value)
            won.append((i, case, team, before))
    if won:
        rows = [{"case_id": case.id, "kind": requests[i].kind, "actor": requests[i].actor,
                 "source": requests[i].source, "at": requests[i].now, "details": requests[i].details}
                for i, case, _, _ in won]
        ids = dict(s.execute(_INSERT_EVENTS, rows).tuples().all())
        events = [CaseEvent(id=ids[row["case_id"]], **row) for row in rows]
        enqueue_many(s, [event_post(team.channel, event) for (_, _, team, _), event in zip(won, events, strict=True)],
                     requests[0].now)
        for (i, case, _, before), event in zip(won, events, strict=True):
            outcomes[i] = (CaseChange(case, event), before)
    return outcomes


def event_post(channel: str | None, event: CaseEvent) -> dict[str, Any]:
    """An event's post (the case message updated in place, one thread line), keyed by the event."""
    return {"key": f"case:{event.case_id}:event:{event.id}", "kind": "case.event", "channel": channel,
            "payload": {"case_id": event.case_id, "event_id": event.id}}


def no_case(case_id: int) -> NotFound:
    return NotFound(f"There is no case FB-{case_id}. `list` shows the open ones.", field="case")


@functools.cache
def _set_columns(columns: tuple[str, ...]) -> Update:
    """UPDATE cases SET the columns, version + 1 WHERE id IN (…); one statement per set of columns, built once."""
    return (
        update(Case).where(Case.id.in_(bindparam("b_ids", expanding=True)))
        .values(version=Case.version + 1, **{c: bindparam(f"b_{c}") for c in columns})
        .execution_options(synchronize_session=False)
    )
