"""The rules corrective actions share: their cause and domain, due dates, timeline events and posts, and
what a case lends the action born from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.cases.action_model import ActionEventRecord, ActionRecord
from bot.cases.permissions import is_leader, is_supervisor
from bot.delivery.outbox import ACTION_EVENT, enqueue
from bot.errors import InvalidInput
from config.teams import LoopbotConfig, Team
from storage.models import ActionEvent, Case, CorrectiveAction, Feedback

_INSERT_EVENT = insert(ActionEvent).returning(ActionEvent.id)


def domain_of(config: LoopbotConfig, cause: str) -> str:
    category = config.categories.get(cause)
    return category.domain if category is not None else "other"


def check_cause(config: LoopbotConfig, cause: str | None, field: str = "cause") -> str:
    causes = (*config.categories, "other")
    if cause not in causes:
        raise InvalidInput(
            f"Cause {cause!r} is not one of {', '.join(causes)}." if cause else "Name the cause.",
            field=field,
        )
    return cause


def check_due(due: datetime, now: datetime) -> datetime:
    if due <= now:
        raise InvalidInput(
            f"The due date {due:%Y-%m-%d %H:%M %Z} is in the past; give a later one, e.g. "
            "`due=` a date next week.",
            field="due",
        )
    return due


def may_finish(config: LoopbotConfig, team: Team, user: str, action: ActionRecord) -> bool:
    """Whether `user` sees the Done button: the owner, the team's supervisors, leaders."""
    return user == action.owner or is_supervisor(team, user) or is_leader(config, user)


def append_event(
    s: Session,
    row: CorrectiveAction,
    channel: str | None,
    kind: str,
    actor: str,
    source: str,
    now: datetime,
    details: dict[str, Any],
    *,
    post: bool = True,
    key: str | None = None,
) -> ActionEventRecord:
    """An event on the action's timeline and, with `post`, its message updated and a line in its thread."""
    values = {
        "action_id": row.id,
        "kind": kind,
        "actor": actor,
        "source": source,
        "at": now,
        "details": details,
    }
    event_id = s.execute(_INSERT_EVENT, values).scalar_one()
    if post:
        enqueue(
            s,
            key=key or f"action:{row.id}:event:{event_id}",
            kind=ACTION_EVENT,
            channel=channel,
            payload={"action_id": row.id, "event_id": event_id},
            now=now,
        )
    return ActionEventRecord(id=event_id, **values)


def link(s: Session, case: Case, action_id: int) -> None:
    s.execute(
        update(Case)
        .where(Case.id == case.id)
        .values(action_id=action_id)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(case, "action_id", action_id)


def metric_of(case: Case | None) -> str | None:
    """An action born from a threshold case is verified on that rule's metric too (SPEC §8)."""
    if case is None or case.kind != "threshold":
        return None
    metric = (case.summary or {}).get("metric")
    return metric if metric in ("csat", "nps", "ces") else None


def touchpoints_of(s: Session, case: Case | None) -> list[str] | None:
    if case is None or case.feedback_id is None:
        return None
    touchpoint = s.scalar(select(Feedback.touchpoint).where(Feedback.id == case.feedback_id))
    return [touchpoint] if touchpoint else None


def add_once(
    s: Session,
    row: CorrectiveAction,
    channel: str | None,
    kind: str,
    details: dict[str, Any],
    *,
    key: str,
    actor: str,
    source: str,
    now: datetime,
) -> ActionEventRecord | None:
    """An event whose thread post carries `key`, unless a post with that key exists: the key (not a read
    beforehand) makes it happen once across restarts and replicas. None when it existed."""
    try:
        with s.begin_nested():
            event = append_event(s, row, channel, kind, actor, source, now, details, post=False)
            if not enqueue(
                s,
                key=key,
                kind=ACTION_EVENT,
                channel=channel,
                payload={"action_id": row.id, "event_id": event.id},
                now=now,
            ):
                raise _Taken
    except _Taken:
        return None
    return event


class _Taken(Exception):
    """Rolls back the savepoint of an event whose keyed post exists already."""
