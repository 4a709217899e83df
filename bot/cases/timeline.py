"""A case's timeline: events appended with their post to Slack, and the changes Loopbot itself makes to a case
inside a job's unit of work (a breach recovered, an escalation told once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases.checks import SYSTEM_ACTOR
from bot.cases.model import CaseChange
from bot.delivery.outbox import enqueue
from storage.models import Case, CaseEvent

# Built once: building a statement and its cache key costs more than running it.
_INSERT_EVENT = insert(CaseEvent).returning(CaseEvent.id)


def record(
    s: Session,
    channel: str | None,
    case: Case,
    kind: str,
    actor: str,
    source: str,
    now: datetime,
    details: dict[str, Any],
) -> CaseEvent:
    """Append an event and its post: the case message updated in place and one line in its thread."""
    event = append(s, case, kind, actor, source, now, details)
    post(s, channel, event, None, now)
    return event


def append(
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


def post(s: Session, channel: str | None, event: CaseEvent, key: str | None, now: datetime) -> bool:
    """The event's post, under `key` if given (else one per event); False when that key was taken."""
    return enqueue(
        s,
        key=key or f"case:{event.case_id}:event:{event.id}",
        kind="case.event",
        channel=channel,
        payload={"case_id": event.case_id, "event_id": event.id},
        now=now,
    )


# -- changes made by jobs, inside the job's unit of work ------------------------------------------


def recover(
    s: Session,
    channel: str | None,
    case: Case,
    details: dict[str, Any],
    *,
    source: str,
    now: datetime,
) -> CaseChange | None:
    """End a threshold case's breach: its rule is free for the next breach's case, and the message and
    thread say so. None when another evaluation recovered it first. No version bump: the case's state is
    untouched, so a person acknowledging it at the same moment must not lose a race over it."""
    if case.active_rule is None:
        return None
    won = s.execute(
        update(Case)
        .where(Case.id == case.id, Case.active_rule == case.active_rule)
        .values(active_rule=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        return None
    set_committed_value(case, "active_rule", None)
    event = record(s, channel, case, "recovered", SYSTEM_ACTOR, source, now, details)
    return CaseChange.of(case, event)


def add_once(
    s: Session,
    channel: str | None,
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
            event = append(s, case, kind, SYSTEM_ACTOR, source, now, details)
            if not post(s, channel, event, key, now):
                raise _Taken  # undo the event: its post exists already
    except _Taken:
        return None
    return event


class _Taken(Exception):
    """Rolls back the savepoint of an event whose keyed post exists already."""
